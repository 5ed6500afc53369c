//go:build linux && !mutation

// Needs an engine: left out of mutation runs (scripts/mutation.sh).

package wire

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The remote tests run the engine behind the transports a user points berth
// at: a second dockerd listening on TCP with mutual TLS (tls_test.go) and
// sshd running `docker system dial-stdio` (sshremote_test.go). Both servers
// are started by the test on 127.0.0.1 and torn down at its end; they need
// root, like the engine itself.

// requireRoot skips when the test cannot start daemons of its own.
func requireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("remote engine tests start their own dockerd and sshd, which needs root")
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitListening waits until something accepts connections on addr, or the
// process behind it exited (exited is closed then).
func waitListening(tb testing.TB, addr string, exited <-chan struct{}, logPath string) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		select {
		case <-exited:
			tb.Fatalf("the server for %s exited before listening:\n%s", addr, tailFile(logPath, 4096))
		case <-time.After(20 * time.Millisecond):
		}
	}
	tb.Fatalf("nothing listens on %s after 20 s:\n%s", addr, tailFile(logPath, 4096))
}

// tailFile returns the last max bytes of a log file, for failure messages.
func tailFile(path string, max int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(data) > max {
		data = data[len(data)-max:]
	}
	return string(data)
}

// startProcess runs name with args, its output going to logPath. The
// returned channel is closed when the process has exited and been reaped.
// The process gets SIGTERM if the test binary dies first.
func startProcess(tb testing.TB, logPath string, name string, args ...string) (*exec.Cmd, <-chan struct{}) {
	tb.Helper()
	logf, err := os.Create(logPath)
	require.NoError(tb, err)
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	require.NoError(tb, cmd.Start(), "start %s", name)
	logf.Close()
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	return cmd, exited
}

// stopProcess sends SIGTERM and waits up to grace before SIGKILL.
func stopProcess(tb testing.TB, cmd *exec.Cmd, exited <-chan struct{}, grace time.Duration) {
	tb.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return
	case <-time.After(grace):
	}
	tb.Errorf("%s did not stop within %v of SIGTERM; killing it", cmd.Path, grace)
	cmd.Process.Kill()
	<-exited
}

// loadTestImage copies busybox:1.36 from the main engine into c's engine
// through c's transport: a streamed upload of a few MB.
func loadTestImage(tb testing.TB, c *Client) {
	tb.Helper()
	ctx := context.Background()
	rc, err := realEngine(tb).ImageSave(ctx, testImage)
	require.NoError(tb, err, "the main engine needs %s: make fixtures", testImage)
	defer rc.Close()
	require.NoError(tb, c.ImageLoad(ctx, rc, nil))
	_, err = c.ImageInspect(ctx, testImage)
	require.NoError(tb, err)
}

// lifecycle runs the core of a container's life through c: create, start,
// inspect, a published port reached at portHost (where the engine's host
// is), exec with stdin and exit code, logs, remove.
func lifecycle(t *testing.T, c *Client, portHost string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// An explicit host port: two engines on one host each allocate random
	// ports from the same range without knowing of each other.
	hostPort := strconv.Itoa(freePort(t))
	cfg := &ContainerConfig{
		Image:        testImage,
		Cmd:          []string{"sh", "-c", "echo out; echo err >&2; mkdir /www; echo hello > /www/index.html; exec httpd -f -p 8080 -h /www"},
		Labels:       testLabels(t),
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		HostConfig:   &HostConfig{PortBindings: map[string][]PortBinding{"8080/tcp": {{HostPort: hostPort}}}},
	}
	resp, err := c.ContainerCreate(ctx, "", cfg, "")
	require.NoError(t, err)
	removed := false
	t.Cleanup(func() {
		if !removed {
			c.ContainerRemove(context.Background(), resp.ID, RemoveOptions{Force: true})
		}
	})
	require.NoError(t, c.ContainerStart(ctx, resp.ID))

	info, err := c.ContainerInspect(ctx, resp.ID)
	require.NoError(t, err)
	assert.True(t, info.State.Running)
	assert.Equal(t, cfg.Labels["berth.session"], info.Config.Labels["berth.session"])

	url := "http://" + net.JoinHostPort(portHost, hostPort) + "/"
	var body string
	hc := &http.Client{Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	require.Eventually(t, func() bool {
		resp, err := hc.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond, "published port at %s", url)
	assert.Equal(t, "hello\n", body)

	execID, err := c.ExecCreate(ctx, resp.ID, ExecConfig{Cmd: []string{"sh", "-c", "cat; echo done >&2; exit 3"}, AttachStdin: true, AttachStdout: true, AttachStderr: true})
	require.NoError(t, err)
	conn, err := c.ExecStart(ctx, execID, false)
	require.NoError(t, err)
	_, err = io.WriteString(conn, "over the wire\n")
	require.NoError(t, err)
	require.NoError(t, conn.CloseWrite(), "stdin EOF must reach cat through the transport")
	var out, errb bytes.Buffer
	require.NoError(t, Demux(conn, &out, &errb))
	conn.Close()
	assert.Equal(t, "over the wire\n", out.String())
	assert.Equal(t, "done\n", errb.String())
	require.Eventually(t, func() bool {
		ins, err := c.ExecInspect(ctx, execID)
		return err == nil && !ins.Running && ins.ExitCode == 3
	}, 5*time.Second, 10*time.Millisecond, "exec exit code 3")

	require.Eventually(t, func() bool {
		body, err := c.ContainerLogs(ctx, resp.ID, LogsOptions{Stdout: true, Stderr: true})
		if err != nil {
			return false
		}
		defer body.Close()
		out.Reset()
		errb.Reset()
		return Demux(body, &out, &errb) == nil && out.String() == "out\n" && errb.String() == "err\n"
	}, 5*time.Second, 10*time.Millisecond, "logs out/err")

	require.NoError(t, c.ContainerRemove(ctx, resp.ID, RemoveOptions{Force: true}))
	removed = true
	_, err = c.ContainerInspect(ctx, resp.ID)
	assert.ErrorIs(t, err, ErrNotFound)
}

// transportClient is a client of the same engine over one transport.
type transportClient struct {
	name string
	c    *Client
	new  func() (*Client, error) // a fresh client, for dial costs
}

// transportClients starts a second dockerd and an sshd in front of it and
// returns clients of that one engine over its unix socket, its TCP port
// with mutual TLS, and ssh to 127.0.0.1 running `docker system dial-stdio`
// against the socket, so only the transport differs. busybox is loaded.
func transportClients(b *testing.B) []transportClient {
	b.Helper()
	requireRoot(b)
	d := startTLSDaemon(b)
	s := startSSHD(b, "DOCKER_HOST=unix://"+d.sock)
	useSSHConfig(b, s, s.clientKey)
	tlsCfg := d.clientTLS(b, d.certDir)
	out := []transportClient{
		{name: "unix", new: func() (*Client, error) { return New(WithHost("unix://" + d.sock)) }},
		{name: "tls", new: func() (*Client, error) {
			return New(WithEndpoint(Endpoint{Host: d.tcpHost, From: "test", TLS: tlsCfg}))
		}},
		{name: "ssh", new: func() (*Client, error) { return New(WithHost(s.host())) }},
	}
	for i := range out {
		c, err := out[i].new()
		require.NoError(b, err)
		b.Cleanup(func() { c.Close() })
		// Negotiate now: the first connection is not what a steady suite
		// pays per container.
		_, err = c.Version(context.Background())
		require.NoError(b, err, out[i].name)
		out[i].c = c
	}
	loadTestImage(b, out[0].c)
	return out
}

// BenchmarkTransport measures start-to-running (create + start) of a
// busybox container over a unix socket, TCP with mutual TLS and ssh, all
// against the same engine. Containers are removed outside the timed loop.
// Compare the sub-benchmarks' ns/op; the engine's own work dominates.
func BenchmarkTransport(b *testing.B) {
	clients := transportClients(b)
	for _, tc := range clients {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			cfg := &ContainerConfig{Image: testImage, Cmd: []string{"sleep", "3600"}, Labels: testLabels(b)}
			var ids []string
			for b.Loop() {
				resp, err := tc.c.ContainerCreate(ctx, "", cfg, "")
				if err != nil {
					b.Fatal(err)
				}
				ids = append(ids, resp.ID)
				if err := tc.c.ContainerStart(ctx, resp.ID); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			removeAll(b, clients[0].c, ids)
		})
	}
}

// BenchmarkTransportOverhead isolates what each transport adds: "request"
// is one small call on a pooled connection (GET /_ping), "connect" is a new
// client's first call, which dials (a TLS handshake, or an ssh login that
// starts the remote docker CLI).
func BenchmarkTransportOverhead(b *testing.B) {
	clients := transportClients(b)
	for _, tc := range clients {
		b.Run("request/"+tc.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				if _, err := tc.c.Ping(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, tc := range clients {
		b.Run("connect/"+tc.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				c, err := tc.new()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Ping(ctx); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}

// removeAll force-removes containers in parallel.
func removeAll(tb testing.TB, c *Client, ids []string) {
	tb.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for _, id := range ids {
		wg.Go(func() {
			if err := c.ContainerRemove(context.Background(), id, RemoveOptions{Force: true}); err != nil {
				errs <- fmt.Errorf("remove %s: %w", id, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	var msgs []string
	for err := range errs {
		msgs = append(msgs, err.Error())
	}
	if len(msgs) > 0 {
		tb.Error(strings.Join(msgs, "\n"))
	}
}
