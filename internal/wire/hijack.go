package wire

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
)

// HijackedConn is a raw connection taken over from an HTTP request (attach,
// exec start, BuildKit's /grpc and /session). Reads first drain bytes the
// engine sent right after its upgrade answer.
type HijackedConn struct {
	net.Conn
	r    io.Reader
	once sync.Once
	stop func() bool
}

// Read reads from the connection, replaying buffered bytes first.
func (h *HijackedConn) Read(p []byte) (int, error) { return h.r.Read(p) }

// CloseWrite half-closes the connection so the process sees EOF on stdin
// while its output can still be read.
func (h *HijackedConn) CloseWrite() error {
	if cw, ok := h.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Close closes the connection.
func (h *HijackedConn) Close() error {
	var err error
	h.once.Do(func() {
		if h.stop != nil {
			h.stop()
		}
		err = h.Conn.Close()
	})
	return err
}

// Hijack sends r with an Upgrade header for proto ("tcp" for attach and
// exec, "h2c" for BuildKit) and returns the raw connection once the engine
// answers 101 (or 200, as older engines do for attach). The connection is
// closed when ctx ends.
func (c *Client) Hijack(ctx context.Context, r Request, proto string) (*HijackedConn, error) {
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", proto)
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	fail := func(err error) (*HijackedConn, error) {
		stop()
		conn.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("engine: %s %s: %w", r.Method, r.Path, context.Cause(ctx))
		}
		return nil, err
	}
	if err := req.Write(conn); err != nil {
		return fail(fmt.Errorf("engine: %s %s: write request: %w", r.Method, r.Path, err))
	}
	// The status line and headers are bounded like net/http bounds them;
	// after them the connection is read unbounded, as a stream.
	lr := &limitedReader{r: conn, n: maxAnswerHeader}
	br := bufio.NewReader(lr)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		if lr.n <= 0 {
			err = &AnswerTooLargeError{Method: r.Method, Path: r.Path, Kind: "answer header", Limit: maxAnswerHeader, Unit: "bytes"}
			return fail(err)
		}
		return fail(fmt.Errorf("engine: %s %s: read answer: %w", r.Method, r.Path, err))
	}
	switch resp.StatusCode {
	case http.StatusSwitchingProtocols, http.StatusOK:
	default:
		err := readAPIError(r.Method, r.Path, resp)
		resp.Body.Close()
		return fail(err)
	}
	h := &HijackedConn{Conn: conn, stop: stop}
	if n := br.Buffered(); n > 0 {
		pending, _ := br.Peek(n)
		h.r = io.MultiReader(bytesReader(pending), conn)
	} else {
		h.r = conn
	}
	return h, nil
}

// maxAnswerHeader bounds the status line, headers and error body of a
// hijack answer.
const maxAnswerHeader = 1 << 20

func bytesReader(b []byte) io.Reader {
	cp := make([]byte, len(b))
	copy(cp, b)
	return &sliceReader{b: cp}
}

type sliceReader struct{ b []byte }

func (s *sliceReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}
