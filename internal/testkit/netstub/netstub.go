// Package netstub holds TCP listeners that stand in for an engine or a
// service at the connection level, for tests of timeouts and protocol
// corners that no real server shows on demand. It imports nothing of
// berth's, so every layer's tests may use it.
package netstub

import (
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// Serve listens on 127.0.0.1 until the test ends and runs handle on each
// connection, closing the connection when handle returns. It returns the
// address, host:port.
func Serve(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				handle(conn)
			}()
		}
	}()
	return ln.Addr().String()
}

// Hung accepts connections, reads what is sent and never answers until the
// test ends: an engine that takes calls and hangs. It returns the address,
// host:port.
func Hung(t testing.TB) string {
	t.Helper()
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	return Serve(t, func(conn net.Conn) {
		go io.Copy(io.Discard, conn)
		<-done
	})
}
