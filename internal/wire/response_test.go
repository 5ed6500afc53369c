package wire

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/internal/tests/netstub"
)

func TestHungEngineIsReportedInBoundedTime(t *testing.T) {
	addr := netstub.Hung(t)
	c, err := New(WithHost("tcp://"+addr), WithResponseTimeout(300*time.Millisecond))
	require.NoError(t, err)
	defer c.Close()
	ctx := context.Background() // no deadline: the bound alone ends the call

	start := time.Now()
	_, err = c.Version(ctx)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.ErrorIs(t, err, ErrNoResponse)
	assert.ErrorIs(t, err, ErrDaemonUnreachable)
	assert.Contains(t, err.Error(), "GET /_ping")
	assert.Contains(t, err.Error(), "tcp://"+addr)
	assert.Contains(t, err.Error(), "300ms")
	assert.Contains(t, err.Error(), "WithResponseTimeout")

	// Past negotiation too.
	pinned, err := New(WithHost("tcp://"+addr), WithVersion("1.41"), WithResponseTimeout(300*time.Millisecond))
	require.NoError(t, err)
	defer pinned.Close()
	start = time.Now()
	_, err = pinned.ContainerInspect(ctx, "abc")
	assert.ErrorIs(t, err, ErrNoResponse)
	assert.Contains(t, err.Error(), "GET /containers/abc/json")
	assert.Less(t, time.Since(start), 3*time.Second)
}

func TestResponseTimeoutFromEnv(t *testing.T) {
	addr := netstub.Hung(t)
	t.Setenv(EnvResponseTimeout, "200ms")
	c, err := New(WithHost("tcp://" + addr))
	require.NoError(t, err)
	defer c.Close()
	start := time.Now()
	_, err = c.Ping(context.Background())
	assert.ErrorIs(t, err, ErrNoResponse)
	assert.Contains(t, err.Error(), EnvResponseTimeout)
	assert.Less(t, time.Since(start), 3*time.Second)

	t.Setenv(EnvResponseTimeout, "soon")
	_, err = New(WithHost("tcp://" + addr))
	require.Error(t, err)
	assert.Contains(t, err.Error(), EnvResponseTimeout)

	t.Setenv(EnvResponseTimeout, "")
	c, err = New(WithHost("tcp://" + addr))
	require.NoError(t, err)
	assert.Equal(t, DefaultResponseTimeout, c.respTimeout)
	_, err = New(WithHost("tcp://"+addr), WithResponseTimeout(-time.Second))
	require.Error(t, err)
}

// Calls that wait on work by design are bounded by ctx alone; the bound
// starts after an upload.
func TestResponseTimeoutSparesLongCalls(t *testing.T) {
	const bound = 200 * time.Millisecond
	slow := 3 * bound
	srv := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_ping" {
			w.Header().Set("API-Version", "1.41")
			return
		}
		io.Copy(io.Discard, r.Body)
		if !strings.HasSuffix(r.URL.Path, "/archive") {
			time.Sleep(slow)
		}
		switch {
		case strings.HasSuffix(r.URL.Path, "/wait"):
			w.Write([]byte(`{"StatusCode":3}`))
		case strings.HasSuffix(r.URL.Path, "/images/create"):
			w.Write([]byte(`{"status":"done"}`))
		}
	})
	c := fakeEngineWith(t, srv, WithResponseTimeout(bound))
	ctx := context.Background()

	w, err := c.ContainerWait(ctx, "x", "")
	require.NoError(t, err)
	assert.EqualValues(t, 3, w.StatusCode)
	require.NoError(t, c.ImagePull(ctx, "busybox", "1.36", "", "", nil))
	require.NoError(t, c.ContainerStop(ctx, "x", nil))
	logs, err := c.ContainerLogs(ctx, "x", LogsOptions{Stdout: true, Follow: true})
	require.NoError(t, err)
	logs.Close()

	// Not a long call: bounded.
	_, err = c.ContainerInspect(ctx, "x")
	assert.ErrorIs(t, err, ErrNoResponse)

	// A slow upload is not counted against the bound.
	body := &slowReader{r: strings.NewReader(strings.Repeat("x", 1000)), delay: slow / 10}
	require.NoError(t, c.CopyToContainer(ctx, "x", "/", body))
}

type slowReader struct {
	r     io.Reader
	delay time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.delay)
	if len(p) > 100 {
		p = p[:100]
	}
	return s.r.Read(p)
}

// fakeEngineWith serves h (which answers /_ping itself) with extra options.
func fakeEngineWith(t *testing.T, h http.Handler, opts ...Option) *Client {
	t.Helper()
	srv := newServer(t, h)
	c, err := New(append([]Option{WithHost("tcp://" + srv)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func newServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &http.Server{Handler: h}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return ln.Addr().String()
}

// A TLS endpoint that takes the connection and never answers the
// handshake is bounded the same way.
func TestHungTLSHandshakeIsBounded(t *testing.T) {
	addr := netstub.Hung(t)
	c, err := New(WithEndpoint(Endpoint{Host: "tcp://" + addr, From: "option", TLS: &tls.Config{InsecureSkipVerify: true}}),
		WithResponseTimeout(300*time.Millisecond))
	require.NoError(t, err)
	defer c.Close()
	start := time.Now()
	_, err = c.Ping(context.Background())
	require.Error(t, err)
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.ErrorIs(t, err, ErrDaemonUnreachable)
	assert.Contains(t, err.Error(), "TLS handshake got no answer within 300ms")
	assert.Contains(t, err.Error(), "tcp://"+addr)
}

// An engine may answer before it has read the upload (a refusal): the
// answer ends the call, bound or not.
func TestAnswerBeforeUploadEnds(t *testing.T) {
	srv := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_ping" {
			w.Header().Set("API-Version", "1.41")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"message":"read-only file system"}`))
	})
	c := fakeEngineWith(t, srv, WithResponseTimeout(time.Second))
	body := io.LimitReader(zeros{}, 64<<20) // more than the server drains
	err := c.CopyToContainer(context.Background(), "x", "/", body)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrNoResponse)
	assert.Contains(t, err.Error(), "read-only file system")
}
