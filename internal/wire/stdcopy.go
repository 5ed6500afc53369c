package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Stream kinds in the multiplexed format of logs, attach and exec.
const (
	StreamStdin  = 0
	StreamStdout = 1
	StreamStderr = 2
	StreamSystem = 3
)

// MaxFrame bounds one frame of a multiplexed stream.
const MaxFrame = 16 << 20

// ErrFrameTooLarge reports a frame header announcing more than MaxFrame.
var ErrFrameTooLarge = errors.New("multiplexed stream: frame larger than the limit")

// Demux splits the engine's multiplexed stream (8-byte header: kind, 3 zero
// bytes, big-endian size; then the payload) into stdout and stderr. Either
// writer may be nil to drop that stream. A system-error frame ends the
// stream with its message as the error. It returns nil at a clean EOF between
// frames and io.ErrUnexpectedEOF for a torn frame.
//
// Podman 4.3 replays logs on attach in frames whose size leaves out the
// line's newline, which then stands where the next header should: a
// newline there goes to the previous frame's stream (no header can start
// with one).
func Demux(r io.Reader, stdout, stderr io.Writer) error {
	var hdr [8]byte
	buf := make([]byte, 32<<10)
	var prev io.Writer // the stream of the last frame
	for {
		n, err := io.ReadFull(r, hdr[:])
		for err == nil && hdr[0] == '\n' && prev != nil {
			if _, werr := prev.Write(hdr[:1]); werr != nil {
				return werr
			}
			copy(hdr[:], hdr[1:])
			if _, err = io.ReadFull(r, hdr[7:]); err == io.EOF {
				return nil // the stream ended with that newline
			}
		}
		if err == io.ErrUnexpectedEOF && n == 1 && hdr[0] == '\n' && prev != nil {
			_, err := prev.Write(hdr[:1])
			return err
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if hdr[0] > StreamSystem || hdr[1]|hdr[2]|hdr[3] != 0 {
			return fmt.Errorf("multiplexed stream: unknown stream kind %d (is the container using a TTY? then read the stream as is)", hdr[0])
		}
		size := int64(binary.BigEndian.Uint32(hdr[4:]))
		if size > MaxFrame {
			return fmt.Errorf("%w (%d bytes)", ErrFrameTooLarge, size)
		}
		var w io.Writer
		switch hdr[0] {
		case StreamStdin, StreamStdout:
			w = stdout
		case StreamStderr:
			w = stderr
		case StreamSystem:
			msg := make([]byte, size)
			if _, err := io.ReadFull(r, msg); err != nil {
				return io.ErrUnexpectedEOF
			}
			return fmt.Errorf("engine stream error: %s", msg)
		}
		if w == nil {
			w = io.Discard
		}
		prev = w
		copied, err := io.CopyBuffer(w, io.LimitReader(r, size), buf)
		if err != nil {
			return err
		}
		if copied < size {
			return io.ErrUnexpectedEOF
		}
	}
}
