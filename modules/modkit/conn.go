package modkit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Dial connects to addr for one readiness try (see Probe.Try) and bounds
// all of the try's I/O: the connection's deadline is timeout from now, or
// ctx's deadline when that comes first, and the end of ctx makes every
// read and write fail at once. Close the connection when the try is done.
func Dial(ctx context.Context, addr string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	if err := conn.SetDeadline(deadline); err != nil {
		conn.Close()
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return &boundConn{Conn: conn, stop: stop}, nil
}

type boundConn struct {
	net.Conn
	stop func() bool
}

func (c *boundConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// ReadLine reads one line and returns it with its '\n', like
// bufio.Reader.ReadString('\n'), but a line longer than limit bytes is an
// error, read no further: what a server sends cannot make the reader grow
// without bound. At the end of the input the error is io.EOF, or
// io.ErrUnexpectedEOF after part of a line.
func ReadLine(r *bufio.Reader, limit int) (string, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > limit {
			return "", fmt.Errorf("a line longer than %d bytes", limit)
		}
		switch {
		case err == nil:
			return string(line), nil
		case errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF) && len(line) > 0:
			return "", io.ErrUnexpectedEOF
		default:
			return "", err
		}
	}
}
