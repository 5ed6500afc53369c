package modkit_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/modules/modkit"
	"github.com/berth-go/berth/wait"
)

// target is a wait.Target whose log the test writes and whose exit it
// triggers.
type target struct {
	mu     sync.Mutex
	logs   []string
	pipes  []*io.PipeWriter
	exited chan struct{}
	code   int
}

func newTarget() *target { return &target{exited: make(chan struct{})} }

func (t *target) log(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.logs = append(t.logs, line)
	for _, w := range t.pipes {
		w.Write([]byte(line))
	}
}

func (t *target) exit(code int) {
	t.mu.Lock()
	t.code = code
	for _, w := range t.pipes {
		w.Close()
	}
	t.mu.Unlock()
	close(t.exited)
}

func (t *target) ID() string                                      { return "fake" }
func (t *target) Host(context.Context) (string, error)            { return "127.0.0.1", nil }
func (t *target) MappedPort(context.Context, string) (int, error) { return 4242, nil }
func (t *target) Exec(context.Context, []string) (wait.ExecResult, error) {
	return wait.ExecResult{}, errors.New("no exec")
}
func (t *target) HealthEvents(context.Context) (<-chan string, error) { return nil, nil }
func (t *target) CopyFrom(context.Context, string) (io.ReadCloser, error) {
	return nil, errors.New("no copy")
}

func (t *target) Logs(ctx context.Context, follow bool) (io.ReadCloser, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !follow {
		return io.NopCloser(strings.NewReader(strings.Join(t.logs, ""))), nil
	}
	r, w := io.Pipe()
	old := append([]string(nil), t.logs...)
	t.pipes = append(t.pipes, w)
	go func() {
		for _, l := range old {
			w.Write([]byte(l))
		}
	}()
	return r, nil
}

func (t *target) State(context.Context) (wait.State, error) {
	select {
	case <-t.exited:
		return wait.State{Status: "exited", ExitCode: t.code}, nil
	default:
		return wait.State{Status: "running", Running: true}, nil
	}
}

func (t *target) WaitExit(ctx context.Context) (wait.State, error) {
	select {
	case <-t.exited:
		return t.State(ctx)
	case <-ctx.Done():
		return wait.State{}, ctx.Err()
	}
}

func TestProbeWaitsForTheLogLine(t *testing.T) {
	tg := newTarget()
	var tries atomic.Int32
	p := modkit.Probe{Log: "ready", Port: "1/tcp", Name: "PING", Try: func(ctx context.Context, addr string) error {
		assert.Equal(t, "127.0.0.1:4242", addr)
		tries.Add(1)
		return nil
	}}
	done := make(chan error, 1)
	go func() { done <- p.Ready(context.Background(), tg) }()
	tg.log("starting\n")
	time.Sleep(100 * time.Millisecond)
	assert.Zero(t, tries.Load(), "no try before the log line")
	tg.log("server ready\n")
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Ready did not return after the log line")
	}
	assert.EqualValues(t, 1, tries.Load())
	assert.Equal(t, `log "ready", then PING on 1/tcp`, p.String())
}

func TestProbeRetriesUntilReady(t *testing.T) {
	tg := newTarget()
	var tries atomic.Int32
	p := modkit.Probe{Port: "1/tcp", Try: func(context.Context, string) error {
		if tries.Add(1) < 4 {
			return errors.New("connection refused")
		}
		return nil
	}}
	start := time.Now()
	require.NoError(t, p.Ready(context.Background(), tg))
	assert.EqualValues(t, 4, tries.Load())
	assert.Less(t, time.Since(start), time.Second, "tries back off from 5 ms")
	assert.Equal(t, "probe on 1/tcp", p.String())
}

func TestProbePermanentEndsAtOnce(t *testing.T) {
	tg := newTarget()
	refused := errors.New("password refused")
	var tries atomic.Int32
	p := modkit.Probe{Port: "1/tcp", Name: "AUTH", Try: func(context.Context, string) error {
		tries.Add(1)
		return modkit.Permanent(refused)
	}}
	err := p.Ready(context.Background(), tg)
	require.ErrorIs(t, err, refused)
	assert.Contains(t, err.Error(), "AUTH on 127.0.0.1:4242: password refused")
	assert.EqualValues(t, 1, tries.Load())
	assert.Nil(t, modkit.Permanent(nil))
}

func TestProbeTimeoutSaysTheLastTry(t *testing.T) {
	tg := newTarget()
	p := modkit.Probe{Port: "1/tcp", Name: "PING", Try: func(context.Context, string) error {
		return errors.New("reset by peer")
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := p.Ready(ctx, tg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reset by peer")
}

func TestProbeContainerExit(t *testing.T) {
	tg := newTarget()
	p := modkit.Probe{Log: "never logged", Port: "1/tcp", Try: func(context.Context, string) error { return nil }}
	go func() {
		time.Sleep(50 * time.Millisecond)
		tg.log("fatal: bad config\n")
		tg.exit(3)
	}()
	err := p.Ready(context.Background(), tg)
	var exit *wait.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 3, exit.ExitCode)
}

func TestProbeNeedsTryAndPort(t *testing.T) {
	err := modkit.Probe{Port: "1/tcp"}.Ready(context.Background(), newTarget())
	assert.ErrorContains(t, err, "Try and Port")
}

func TestNetworkAddr(t *testing.T) {
	assert.Equal(t, "db:5432", modkit.NetworkAddr("db", "5432/tcp"))
	assert.Equal(t, "dns:53", modkit.NetworkAddr("dns", "53/udp"))
	assert.Equal(t, "cache:6379", modkit.NetworkAddr("cache", "6379"), "a port without protocol")
}

func TestAddressZero(t *testing.T) {
	var a modkit.Address
	assert.Equal(t, "", a.Host())
	assert.Zero(t, a.Port())
}
