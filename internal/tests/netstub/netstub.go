// Package netstub holds listeners that stand in for an engine or a
// service at the connection level, for tests of timeouts, protocol corners
// and the socket search that no real server shows on demand: TCP servers,
// and unix sockets that answer /_ping, hang or refuse. It imports nothing
// of berth's, so every layer's tests (internal/wire's too) may use it.
package netstub

import (
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

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

// Port is the port of addr, host:port.
func Port(t testing.TB, addr string) int {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	n, err := strconv.Atoi(port)
	require.NoError(t, err)
	return n
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

// ShortTempDir is a temporary directory with a short path, removed when
// the test ends: a unix socket's path must fit in 108 bytes, and
// t.TempDir's can be longer.
func ShortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "bs")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// SearchEnv clears what names an engine (DOCKER_HOST, DOCKER_CONTEXT) and
// points the places the socket search looks (HOME, XDG_RUNTIME_DIR,
// DOCKER_CONFIG) into a fresh short directory, which it returns: h is
// HOME, x XDG_RUNTIME_DIR, cfg DOCKER_CONFIG. The caller points the search
// root (wire.SetSearchRoot) at its r.
func SearchEnv(t testing.TB) string {
	t.Helper()
	dir := ShortTempDir(t)
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("DOCKER_CONTEXT", "")
	t.Setenv("DOCKER_CONFIG", filepath.Join(dir, "cfg"))
	t.Setenv("HOME", filepath.Join(dir, "h"))
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "x"))
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("COLIMA_HOME", "")
	return dir
}

// listenUnix listens on a unix socket at path, making its directory.
func listenUnix(t testing.TB, path string) net.Listener {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	l, err := net.Listen("unix", path)
	require.NoError(t, err)
	return l
}

// PingingSocket listens on a unix socket at path until the test ends and
// answers GET /_ping with 200, "OK" and the Server header server, like an
// engine; any other path is not found.
func PingingSocket(t testing.TB, path, server string) {
	t.Helper()
	l := listenUnix(t, path)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/_ping" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Server", server)
			_, _ = w.Write([]byte("OK"))
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// SilentSocket listens on a unix socket at path until the test ends and
// never accepts: a dial succeeds, the ping gets no answer (a hung engine).
func SilentSocket(t testing.TB, path string) {
	t.Helper()
	l := listenUnix(t, path)
	t.Cleanup(func() { _ = l.Close() })
}

// StaleSocket leaves a socket file at path that nobody listens on (a
// stopped Docker Desktop): a dial is refused.
func StaleSocket(t testing.TB, path string) {
	t.Helper()
	l := listenUnix(t, path)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, l.Close())
}

// Frame is one frame of the Engine API's multiplexed stream (attach, logs
// and exec without a TTY): stream 1 is stdout, 2 stderr; the header holds
// the payload's length.
func Frame(stream byte, payload string) []byte {
	b := make([]byte, 8+len(payload))
	b[0] = stream
	binary.BigEndian.PutUint32(b[4:], uint32(len(payload)))
	copy(b[8:], payload)
	return b
}
