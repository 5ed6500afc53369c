package wait

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/internal/tests/netstub"
)

// fakeOn is a running fake whose mapped port is srv's.
func fakeOn(t *testing.T, srv *httptest.Server) *fake {
	t.Helper()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	port, err := strconv.Atoi(u.Port())
	require.NoError(t, err)
	f := newFake()
	f.port = port
	return f
}

// shortCtx is for waits meant to time out; long enough for a first TLS
// handshake on a busy machine.
func shortCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestForHTTPRequest(t *testing.T) {
	t.Parallel()
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got.Store(r.Method + " " + r.URL.Path + " " + r.Header.Get("X-Token") + "," + r.Header.Values("X-Multi")[0] + " " + string(body))
		if r.Method != http.MethodPost || r.Header.Get("X-Token") != "abc" || string(body) != "ping" {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, "no")
			return
		}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "pong")
	}))
	defer srv.Close()
	f := fakeOn(t, srv)
	s := ForHTTP("/probe").Port("8080/tcp").Method(http.MethodPost).Header("X-Token", "abc").Header("X-Multi", "1").
		Body([]byte("ping")).Status(http.StatusAccepted).BodyMatcher(func(b []byte) bool { return string(b) == "pong" })
	require.NoError(t, s.Ready(context.Background(), f))
	assert.Equal(t, "POST /probe abc,1 ping", got.Load())
	assert.Equal(t, "http POST :8080/tcp/probe status 202", s.String())

	err := ForHTTP("/probe").Port("8080").Method(http.MethodPost).Header("X-Token", "abc").Header("X-Multi", "1").
		Body([]byte("ping")).Ready(shortCtx(t), f)
	var te *TimeoutError
	require.ErrorAs(t, err, &te, "202 is not the default 200")
	assert.Equal(t, `status 202, body "pong"`, te.LastSeen)

	err = ForHTTP("/probe").Port("8080").Method(http.MethodPost).Header("X-Token", "abc").Header("X-Multi", "1").
		Body([]byte("ping")).StatusMatcher(func(c int) bool { return c < 300 }).
		BodyMatcher(func(b []byte) bool { return string(b) == "pang" }).Ready(shortCtx(t), f)
	require.ErrorAs(t, err, &te)
	assert.Equal(t, `status 202, body not matched: "pong"`, te.LastSeen)
	assert.Equal(t, "http GET :8080/tcp/ status matching", ForHTTP("/").Port("8080/tcp").StatusMatcher(func(int) bool { return true }).String())

	err = ForHTTP("/probe").Port("8080").Header("X-Multi", "1").Ready(shortCtx(t), f)
	require.ErrorAs(t, err, &te)
	assert.Equal(t, `status 403, body "no"`, te.LastSeen)
	assert.Equal(t, "GET /probe ,1 ", got.Load())
}

func TestForHTTPTLSOnAFake(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	defer srv.Close()
	f := fakeOn(t, srv)
	require.NoError(t, ForHTTP("/").Port("443").Insecure().Ready(context.Background(), f))
	assert.Equal(t, "https GET :443/ status 200", ForHTTP("/").Port("443").Insecure().String())

	err := ForHTTP("/").Port("443").TLS().Ready(shortCtx(t), f)
	var te *TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, te.LastSeen, "https://127.0.0.1:")
	assert.Contains(t, te.LastSeen, "x509: certificate signed by unknown authority")

	err = ForHTTP("/").Port("443").Ready(shortCtx(t), f)
	require.ErrorAs(t, err, &te)
	assert.Contains(t, te.LastSeen, `status 400, body "Client sent an HTTP request to an HTTPS server`)
}

func TestForHTTPWithoutAnAddress(t *testing.T) {
	f := newFake()
	f.portErr = ErrPortNotPublished
	err := ForHTTP("/").Port("8080").Ready(shortCtx(t), f)
	assert.ErrorIs(t, err, ErrPortNotPublished)
	var te *TimeoutError
	assert.False(t, errors.As(err, &te), "a missing port is not a timeout: %v", err)
}

func TestForListeningPortOnAFake(t *testing.T) {
	t.Parallel()
	listening := netstub.Hung(t)
	table := func(port int, state string) string {
		return "  sl  local_address rem_address   st\n   0: 00000000:" + hex4(port) + " 00000000:0000 " + state + " 0\n"
	}
	f := newFake()
	f.port = netstub.Port(t, listening)
	var calls atomic.Int32
	f.exec = func(cmd []string) (ExecResult, error) {
		assert.Equal(t, []string{"cat", "/proc/net/tcp", "/proc/net/tcp6"}, cmd)
		if calls.Add(1) < 3 {
			return ExecResult{Stdout: []byte(table(5432, "01"))}, nil
		}
		return ExecResult{Stdout: []byte(table(5432, "0A"))}, nil
	}
	require.NoError(t, ForListeningPort("5432/tcp").Ready(context.Background(), f))
	assert.EqualValues(t, 3, calls.Load(), "ready once the port listens inside")

	// Listening inside but only the engine's proxy answers outside: it
	// accepts and closes at once.
	proxy := netstub.Serve(t, func(net.Conn) {})
	f.port = netstub.Port(t, proxy)
	err := ForListeningPort("5432").Ready(shortCtx(t), f)
	var te *TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, te.LastSeen, "connect "+proxy+": ")
	assert.Equal(t, "listening port 5432", te.Awaited)
	// What each of those tries saw; a busy machine can time a dial out.
	var last error
	for range 5 {
		if last = acceptedThrough(context.Background(), proxy); !isTimeout(last) {
			break
		}
	}
	assert.EqualError(t, last, "connection closed at once (only the engine's port proxy answered)")

	// Not published: the inside check alone decides.
	f.portErr = ErrPortNotPublished
	require.NoError(t, ForListeningPort("5432").Ready(context.Background(), f))
	f.exec = func([]string) (ExecResult, error) { return ExecResult{ExitCode: 127}, nil }
	err = ForListeningPort("5432").Ready(context.Background(), f)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `port 5432 is not published and the container's TCP table cannot be read: publish it with Port("5432")`)
	f.exec = func([]string) (ExecResult, error) { return ExecResult{Stdout: []byte(table(5432, "01"))}, nil }
	err = ForListeningPort("5432").Ready(shortCtx(t), f)
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "port 5432 not listening inside the container (exec cat)", te.LastSeen)
}

func hex4(n int) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[n>>12&15], digits[n>>8&15], digits[n>>4&15], digits[n&15]})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
