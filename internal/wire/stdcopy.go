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
func Demux(r io.Reader, stdout, stderr io.Writer) error {
	var hdr [8]byte
	buf := make([]byte, 32<<10)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
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
		n, err := io.CopyBuffer(w, io.LimitReader(r, size), buf)
		if err != nil {
			return err
		}
		if n < size {
			return io.ErrUnexpectedEOF
		}
	}
}
