package berth_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/wire"
)

// TestDaemonRestart restarts the engine under a running test: calls in
// flight and during the outage fail with clear errors, and the test's
// cleanup still removes everything once the engine is back. It disrupts
// every other test using the engine, so it runs only when asked
// (BERTH_DAEMON_RESTART=1; scripts/test.sh runs it alone at the end).
func TestDaemonRestart(t *testing.T) {
	if os.Getenv("BERTH_DAEMON_RESTART") != "1" {
		t.Skip("restarts the engine: run with BERTH_DAEMON_RESTART=1 and nothing else running")
	}
	var testLabel string
	t.Cleanup(func() {
		// Runs after the harness's cleanup: nothing of the test is left.
		c, err := wire.New()
		require.NoError(t, err)
		left, err := c.ContainerList(context.Background(), true, wire.Filters{"label": {engine.LabelTest + "=" + testLabel}})
		require.NoError(t, err)
		assert.Empty(t, left, "containers left after the engine restart")
	})
	h := berth.New(t)
	testLabel = t.Name()
	// Runs first: whatever fails below, the engine comes back for the
	// harness's cleanup and for everything after this test.
	t.Cleanup(func() {
		if out, err := exec.Command("bash", "scripts/engine.sh").CombinedOutput(); err != nil {
			t.Errorf("engine did not come back: %v\n%s", err, out)
		}
	})
	ctx := t.Context()
	c := sleeper(h).Port("8080/tcp").Start()

	type result struct {
		code int
		err  error
	}
	execDone := make(chan result, 1)
	go func() {
		res, err := c.Exec(ctx, []string{"sleep", "60"})
		execDone <- result{res.ExitCode, err}
	}()
	time.Sleep(300 * time.Millisecond) // the exec is attached

	data, err := os.ReadFile("/var/run/docker.pid")
	require.NoError(t, err)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, syscall.Kill(pid, syscall.SIGTERM))
	select {
	case r := <-execDone:
		// Either the stream broke, or the engine killed the process on its
		// way down and reported it: never a silent success.
		if r.err != nil {
			assert.Contains(t, r.err.Error(), "exec")
		} else {
			assert.NotEqual(t, 0, r.code, "an exec cut by the engine's stop must not report success")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the exec did not notice the engine going away")
	}
	for syscall.Kill(pid, 0) == nil {
		time.Sleep(100 * time.Millisecond)
	}
	// While the engine is down, calls say so and how to fix it.
	_, err = c.State(ctx)
	require.Error(t, err)
	assert.True(t, errors.Is(err, wire.ErrDaemonUnreachable), "want ErrDaemonUnreachable, got %v", err)
	assert.Contains(t, err.Error(), "start the engine")

	out, err := exec.Command("bash", "scripts/engine.sh").CombinedOutput()
	require.NoError(t, err, string(out))
	st, err := c.State(ctx)
	require.NoError(t, err)
	assert.False(t, st.Running, "containers do not survive a restart without live-restore")
}
