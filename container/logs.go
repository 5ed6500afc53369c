package container

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"

	"github.com/berth-go/berth/internal/wire"
)

// LogLine is one line of container output.
type LogLine struct {
	Stream string // "stdout" or "stderr"
	Text   string // without the trailing newline
}

// Output is a snapshot of a container's logs, kept apart by stream.
type Output struct {
	Stdout, Stderr []byte
}

// LogsSnapshot returns what the container has written so far, by stream.
func (c *Container) LogsSnapshot(ctx context.Context) (Output, error) {
	body, err := c.client.ContainerLogs(ctx, c.id, wire.LogsOptions{Stdout: true, Stderr: true})
	if err != nil {
		return Output{}, err
	}
	defer body.Close()
	var out, errb bytes.Buffer
	if c.tty {
		_, err = io.Copy(&out, body)
	} else {
		err = wire.Demux(body, &out, &errb)
	}
	return Output{Stdout: out.Bytes(), Stderr: errb.Bytes()}, err
}

// Tail returns the last n lines of output, each marked with its stream.
func (c *Container) Tail(ctx context.Context, n int) ([]LogLine, error) {
	body, err := c.client.ContainerLogs(ctx, c.id, wire.LogsOptions{Stdout: true, Stderr: true, Tail: strconv.Itoa(n)})
	if err != nil {
		return nil, err
	}
	defer body.Close()
	var lines []LogLine
	err = c.splitLines(body, func(l LogLine) { lines = append(lines, l) })
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, err
}

// FollowLogs calls fn for every line the container writes, from the start,
// until the container stops or ctx ends. It returns nil in both cases.
func (c *Container) FollowLogs(ctx context.Context, fn func(LogLine)) error {
	body, err := c.client.ContainerLogs(ctx, c.id, wire.LogsOptions{Stdout: true, Stderr: true, Follow: true})
	if err != nil {
		return err
	}
	defer body.Close()
	err = c.splitLines(body, fn)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// splitLines demultiplexes body and calls fn per complete line; a last
// partial line is delivered at the end.
func (c *Container) splitLines(body io.Reader, fn func(LogLine)) error {
	if c.tty {
		return scanLines(body, "stdout", fn)
	}
	out := &lineWriter{stream: "stdout", fn: fn}
	errw := &lineWriter{stream: "stderr", fn: fn}
	err := wire.Demux(body, out, errw)
	out.flush()
	errw.flush()
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return nil // the engine closed a followed stream mid-frame on stop
	}
	return err
}

func scanLines(r io.Reader, stream string, fn func(LogLine)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		fn(LogLine{Stream: stream, Text: string(bytes.TrimSuffix(sc.Bytes(), []byte("\r")))})
	}
	return sc.Err()
}

// lineWriter turns written chunks into lines.
type lineWriter struct {
	stream string
	fn     func(LogLine)
	buf    []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.fn(LogLine{Stream: w.stream, Text: string(bytes.TrimSuffix(w.buf[:i], []byte("\r")))})
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 1<<20 { // an endless line: deliver in pieces
		w.flush()
	}
	return len(p), nil
}

func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.fn(LogLine{Stream: w.stream, Text: string(w.buf)})
		w.buf = nil
	}
}
