package container

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

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

// Bounds of Tail, which feeds failure diagnostics: one line is cut to
// maxTailLine bytes, and the tail as a whole keeps the newest lines that
// fit in maxTailBytes.
const (
	maxTailLine  = 4 << 10
	maxTailBytes = 32 << 10
)

// Tail returns the last n lines of output, each marked with its stream.
// It is bounded, for diagnostics: a line longer than 4 KiB is cut, its
// Text ending in "… [N more bytes cut]", and only the newest lines that
// fit in 32 KiB are kept, so fewer than n may come back. Memory stays
// bounded whatever the container wrote.
func (c *Container) Tail(ctx context.Context, n int) ([]LogLine, error) {
	body, err := c.client.ContainerLogs(ctx, c.id, wire.LogsOptions{Stdout: true, Stderr: true, Tail: strconv.Itoa(n)})
	if err != nil {
		return nil, err
	}
	defer body.Close()
	t := &tail{n: n}
	out := &tailWriter{stream: "stdout", t: t}
	errw := &tailWriter{stream: "stderr", t: t}
	if c.tty {
		_, err = io.Copy(out, body)
	} else {
		err = wire.Demux(body, out, errw)
	}
	out.end()
	errw.end()
	return t.lines, err
}

// tail keeps the newest n lines within maxTailBytes.
type tail struct {
	n     int
	lines []LogLine
	size  int
}

func (t *tail) push(l LogLine) {
	t.lines = append(t.lines, l)
	t.size += len(l.Text)
	for len(t.lines) > 1 && (len(t.lines) > t.n || t.size > maxTailBytes) {
		t.size -= len(t.lines[0].Text)
		t.lines = t.lines[1:]
	}
}

// tailWriter turns one stream's chunks into lines of at most maxTailLine
// bytes, counting what it leaves out.
type tailWriter struct {
	stream string
	t      *tail
	head   []byte // the current line's first maxTailLine bytes
	cut    int    // bytes of the current line left out
	open   bool   // a line has begun
}

func (w *tailWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		w.open = true
		take := min(maxTailLine-len(w.head), len(chunk))
		w.head = append(w.head, chunk[:take]...)
		w.cut += len(chunk) - take
		if i < 0 {
			break
		}
		w.end()
		p = p[i+1:]
	}
	return n, nil
}

// end delivers the current line, if one has begun.
func (w *tailWriter) end() {
	if !w.open {
		return
	}
	text := string(bytes.TrimSuffix(w.head, []byte("\r")))
	if w.cut > 0 {
		text = fmt.Sprintf("%s… [%d more bytes cut]", strings.ToValidUTF8(text, ""), w.cut)
	}
	w.t.push(LogLine{Stream: w.stream, Text: text})
	w.head, w.cut, w.open = w.head[:0], 0, false
}

// FollowLogs calls fn for every line the container writes, from the start,
// until the container stops or ctx ends; it returns nil in both cases. A
// stream that ends while the container still runs (cut by the network or
// the engine) is an error matching io.ErrUnexpectedEOF.
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
	return c.streamEnd(ctx, "follow logs", err)
}

// streamEnd judges a followed stream (logs, attach) that ended on its own,
// with err the reader's error: only the end of the container's process is
// a clean end. The engine closes the stream before it records the exit
// on some engines, so a running state is asked again for a moment
// before it is called a cut.
func (c *Container) streamEnd(ctx context.Context, op string, err error) error {
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s of %s: %w", op, c, err)
	}
	for try := 0; ; try++ {
		info, ierr := c.client.ContainerInspect(ctx, c.id)
		switch {
		case errors.Is(ierr, wire.ErrNotFound):
			return nil // removed: it ended
		case ierr != nil:
			return fmt.Errorf("%s of %s: the stream ended and the container's state cannot be read (%v): %w", op, c, ierr, io.ErrUnexpectedEOF)
		case info.State == nil || !stillRuns(info.State):
			return nil
		case try == streamEndChecks-1:
			return fmt.Errorf("%s of %s: the stream ended while the container still runs (%s): it was cut by the network, a proxy or the engine: %w", op, c, info.State.Status, io.ErrUnexpectedEOF)
		}
		select {
		case <-time.After(streamEndPause):
		case <-ctx.Done():
			return nil
		}
	}
}

// How often and how far apart streamEnd asks for the state.
const (
	streamEndChecks = 5
	streamEndPause  = 200 * time.Millisecond
)

// stillRuns reports whether a stream of the container should still be
// open: its process runs, or is paused. (A follow of a container that has
// not started ends at once by design.)
func stillRuns(st *wire.ContainerState) bool { return st.Running && !st.Restarting }

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

// FollowLife calls fn with every line the container writes, from its
// creation until it is removed or ctx ends, following it across stops and
// restarts: a line is delivered once, in order. It returns nil at either
// end; an engine that keeps failing to answer (lifeRetries times in a
// row) ends it with that error.
func (c *Container) FollowLife(ctx context.Context, fn func(LogLine)) error {
	var seen lifeSeen
	failures := 0
	// failed sorts a failed call: a container that is gone ends the follow
	// cleanly, lifeRetries failures in a row end it with the error; else
	// the caller calls again after a pause.
	failed := func(err error) (end error, stop bool) {
		if errors.Is(err, wire.ErrNotFound) {
			return nil, true
		}
		if failures++; failures >= lifeRetries {
			return err, true
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
		return nil, false
	}
	for ctx.Err() == nil {
		o := wire.LogsOptions{Stdout: true, Stderr: true, Follow: true, Timestamps: true}
		if since := seen.since(); !since.IsZero() {
			o.Since = fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond())
		}
		body, err := c.client.ContainerLogs(ctx, c.id, o)
		if err != nil {
			if end, stop := failed(err); stop {
				return end
			}
			continue
		}
		c.splitLines(body, func(l LogLine) {
			if seen.fresh(&l) {
				fn(l)
			}
		})
		body.Close()
		// The stream ends when the container stops (or the connection is
		// cut): follow again once it runs; end when it is gone.
		for ctx.Err() == nil {
			st, err := c.State(ctx)
			if err != nil {
				if end, stop := failed(err); stop {
					return end
				}
				continue
			}
			failures = 0
			if st.Running {
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

// lifeSeen tells FollowLife which lines it delivered, by the engine's
// timestamp of the last line of each stream. The engine stamps a line
// when it reads it from the stream, so stamps rise within a stream; the
// log may hold stdout and stderr lines out of their stamps' order.
type lifeSeen struct{ stdout, stderr time.Time }

// fresh strips the timestamp from l and says whether l comes after the
// last line of its stream.
func (s *lifeSeen) fresh(l *LogLine) bool {
	ts, text, ok := strings.Cut(l.Text, " ")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if !ok || err != nil {
		return true
	}
	last := &s.stdout
	if l.Stream == "stderr" {
		last = &s.stderr
	}
	if !t.After(*last) {
		return false // seen before the stream was opened again
	}
	*last, l.Text = t, text
	return true
}

// since is where to read the log again from: the older of the streams'
// last lines, or the start while a stream has shown nothing (its lines,
// if any, may be older than the other's).
func (s *lifeSeen) since() time.Time {
	if s.stdout.IsZero() || s.stderr.IsZero() {
		return time.Time{}
	}
	if s.stderr.Before(s.stdout) {
		return s.stderr
	}
	return s.stdout
}

// lifeRetries bounds FollowLife's tries against an engine that fails.
const lifeRetries = 25
