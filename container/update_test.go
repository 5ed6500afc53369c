package container_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
)

func hostConfig(t *testing.T, c *container.Container) *wire.HostConfig {
	t.Helper()
	info, err := testenv.Wire(c.Client()).ContainerInspect(t.Context(), c.ID())
	require.NoError(t, err)
	require.NotNil(t, info.HostConfig)
	return info.HostConfig
}

// skipOnPodman skips a test of live limits on Podman, after checking that
// Update says there that it cannot change them.
func skipOnPodman(t *testing.T, c *container.Container) {
	t.Helper()
	if !c.Client().IsPodman(t.Context()) {
		return
	}
	err := c.Update(t.Context(), container.Limits{Memory: 64 << 20})
	require.ErrorIs(t, err, wire.ErrUnsupported)
	assert.Contains(t, err.Error(), "create the container with the limits instead")
	t.Skip("Podman 4.3's Docker API has no /containers/{id}/update (404): Update reports wire.ErrUnsupported, checked here")
}

// liveLimits starts busybox running cmd for a parallel test of changing
// limits while the container runs, and skips the test on Podman (see
// skipOnPodman).
func liveLimits(t *testing.T, cmd ...string) *berth.Container {
	t.Helper()
	t.Parallel()
	c := berth.New(t).Container(busybox).Cmd(cmd...).Start()
	skipOnPodman(t, c.Container)
	return c
}

func TestUpdateCPU(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := berth.New(t).Container(busybox).Cmd("sh", "-c", "while :; do :; done").CPUs(1).Start()
	skipOnPodman(t, c.Container)

	require.NoError(t, c.Update(ctx, container.Limits{CPUs: 0.2}))
	assert.Equal(t, int64(200_000_000), hostConfig(t, c.Container).NanoCPUs)
	// The engine's sample spans the second after the update: the CFS quota
	// holds the busy loop near 20% of one CPU.
	s, err := c.Stats(ctx)
	require.NoError(t, err)
	t.Logf("after update: %s", s)
	assert.Greater(t, s.CPUPercent, 1.0)
	assert.Less(t, s.CPUPercent, 30.0)
}

func TestUpdatePidsLimit(t *testing.T) {
	// The main shell blocks on a FIFO without forking, then starts six
	// background processes at once; busybox sh exits 2 when a fork fails.
	c := liveLimits(t, "sh", "-c", "[ -p /f ] || mkfifo /f; read x < /f; for i in 1 2 3 4 5 6; do sleep 30 & done; echo burst-done; exec sleep 3600")
	ctx := t.Context()
	require.Eventually(t, func() bool {
		st, err := c.StatPath(ctx, "/f")
		return err == nil && st.Mode&os.ModeNamedPipe != 0
	}, 10*time.Second, 20*time.Millisecond)
	// The exec itself needs processes under the limit: runc may fail to
	// start it ("read init-p: connection reset") while the limit is tight,
	// so try again until it runs.
	trigger := func() {
		t.Helper()
		for attempt := 0; ; attempt++ {
			// An exec reported as failed may still have written: the
			// shell then ran its burst and is gone.
			if st, err := c.State(ctx); err == nil && !st.Running {
				return
			}
			res, err := c.Exec(ctx, []string{"sh", "-c", "echo go > /f"})
			if errors.Is(err, wire.ErrConflict) && attempt < 20 {
				continue // the container stopped under the exec
			}
			require.NoError(t, err)
			if res.ExitCode == 0 {
				return
			}
			require.Less(t, attempt, 20, "exec never ran: stdout %q stderr %q", res.Stdout, res.Stderr)
			time.Sleep(50 * time.Millisecond)
		}
	}

	require.NoError(t, c.Update(ctx, container.Limits{PidsLimit: 4}))
	assert.Equal(t, int64(4), *hostConfig(t, c.Container).PidsLimit)
	trigger()
	st, err := c.WaitExit(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, st.ExitCode)
	out, err := c.LogsSnapshot(ctx)
	require.NoError(t, err)
	assert.Contains(t, string(out.Stderr), "can't fork")
	assert.NotContains(t, string(out.Stdout), "burst-done")

	// Limits change on a stopped container too; the next run has none.
	require.NoError(t, c.Update(ctx, container.Limits{PidsLimit: -1}))
	require.NoError(t, c.Start(ctx))
	trigger()
	require.Eventually(t, func() bool {
		out, err := c.LogsSnapshot(ctx)
		return err == nil && strings.Contains(string(out.Stdout), "burst-done")
	}, 10*time.Second, 20*time.Millisecond)
	s, err := c.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(0), s.PidsLimit, "no limit any more")
	assert.GreaterOrEqual(t, s.Pids, uint64(6), "all six sleeps run")
}

func TestUpdateMemoryOOM(t *testing.T) {
	// tail holds its whole input line (200 MiB of zeros, no newline) in
	// memory once /go exists.
	c := liveLimits(t, "sh", "-c", "while [ ! -f /go ]; do sleep 0.05; done; head -c 200m /dev/zero | tail")
	ctx := t.Context()

	require.NoError(t, c.Update(ctx, container.Limits{Memory: 32 << 20}))
	hc := hostConfig(t, c.Container)
	assert.Equal(t, int64(32<<20), hc.Memory)
	assert.Equal(t, int64(32<<20), hc.MemorySwap, "no swap unless asked for")
	exec(t, c.Container, "touch", "/go")

	st, err := c.WaitExit(ctx)
	require.NoError(t, err)
	assert.Equal(t, 137, st.ExitCode)
	// The engine records OOMKilled from the kernel's OOM event, which can
	// arrive a moment after the exit; and when the killed process is not
	// PID 1 (tail here) the flag may stay false while the kernel's "Killed"
	// is the evidence.
	oom := st.OOMKilled
	for i := 0; i < 20 && !oom; i++ {
		time.Sleep(100 * time.Millisecond)
		st, err = c.State(ctx)
		require.NoError(t, err)
		oom = st.OOMKilled
	}
	if !oom {
		out, err := c.LogsSnapshot(ctx)
		require.NoError(t, err)
		assert.Contains(t, string(out.Stderr), "Killed", "neither OOMKilled nor the kernel's kill: state %+v", st)
	}
}

func TestUpdateMemoryBelowUsage(t *testing.T) {
	c := liveLimits(t, "sh", "-c", "head -c 40m /dev/zero > /dev/shm/fill; exec sleep 3600")
	ctx := t.Context()
	require.Eventually(t, func() bool {
		s, err := c.Stats(ctx)
		return err == nil && s.MemoryUsage >= 40<<20
	}, 20*time.Second, 100*time.Millisecond)

	err := c.Update(ctx, container.Limits{Memory: 16 << 20})
	require.ErrorIs(t, err, container.ErrLimitBelowUsage)
	var ae *wire.APIError
	require.ErrorAs(t, err, &ae, "the engine's answer stays in the chain")
	msg := err.Error()
	assert.Contains(t, msg, "memory limit 16.00MiB is below the")
	assert.Contains(t, msg, "MiB the container already uses")
	assert.Contains(t, msg, "limits unchanged")

	// Nothing changed: no limit, still running.
	hc := hostConfig(t, c.Container)
	assert.Equal(t, int64(0), hc.Memory)
	st, err := c.State(ctx)
	require.NoError(t, err)
	assert.True(t, st.Running)
	// A limit above the usage still works afterwards.
	require.NoError(t, c.Update(ctx, container.Limits{Memory: 128 << 20}))
	assert.Equal(t, int64(128<<20), hostConfig(t, c.Container).Memory)
}

func TestUpdateRestartPolicy(t *testing.T) {
	c := liveLimits(t, "sleep", "3600")
	ctx := t.Context()

	require.NoError(t, c.Update(ctx, container.Limits{RestartPolicy: &container.RestartPolicy{Name: "on-failure", MaxRetries: 3}}))
	rp := hostConfig(t, c.Container).RestartPolicy
	require.NotNil(t, rp)
	assert.Equal(t, wire.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}, *rp)

	require.NoError(t, c.Update(ctx, container.Limits{RestartPolicy: &container.RestartPolicy{Name: "no"}}))
	assert.Equal(t, "no", hostConfig(t, c.Container).RestartPolicy.Name)
}

func TestUpdateBadInput(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := h.Container(busybox).Cmd("sleep", "3600").Start()

	tests := []struct {
		name   string
		limits container.Limits
		hint   string
	}{
		{"nothing", container.Limits{}, "set at least one limit"},
		{"negative memory", container.Limits{Memory: -5}, "bytes"},
		{"swap below memory", container.Limits{Memory: 64 << 20, MemorySwap: 32 << 20}, "cannot be less than Memory"},
		{"bad swap", container.Limits{MemorySwap: -2}, "-1 for unlimited"},
		{"negative cpus", container.Limits{CPUs: -1}, "positive number of CPUs"},
		{"NaN cpus", container.Limits{CPUs: math.NaN()}, "positive number of CPUs"},
		{"tiny cpus", container.Limits{CPUs: 1e-12}, "practical minimum"},
		{"bad pids", container.Limits{PidsLimit: -7}, "remove the limit"},
		{"unknown policy", container.Limits{RestartPolicy: &container.RestartPolicy{Name: "sometimes"}}, "on-failure"},
		{"retries without on-failure", container.Limits{RestartPolicy: &container.RestartPolicy{Name: "always", MaxRetries: 2}}, "only with \"on-failure\""},
		{"negative retries", container.Limits{RestartPolicy: &container.RestartPolicy{Name: "on-failure", MaxRetries: -1}}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Update(ctx, tt.limits)
			require.ErrorIs(t, err, container.ErrInvalidSpec)
			assert.Contains(t, err.Error(), tt.hint)
		})
	}

	t.Run("engine refuses a tiny limit", func(t *testing.T) {
		skipOnPodman(t, c.Container)
		err := c.Update(ctx, container.Limits{Memory: 1 << 20})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "update limits of "+c.String())
		assert.Contains(t, strings.ToLower(err.Error()), "minimum memory limit")
		assert.Equal(t, int64(0), hostConfig(t, c.Container).Memory)
	})
}

func TestRename(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := h.Container(busybox).Cmd("sleep", "3600").Start()
	other := h.Container(busybox).Cmd("sleep", "3600").Start()
	otherName, err := other.Name(ctx)
	require.NoError(t, err)

	name := "berth-renamed-" + strings.ReplaceAll(c.ID()[:12], "-", "")
	require.NoError(t, c.Rename(ctx, name))
	got, err := c.Name(ctx)
	require.NoError(t, err)
	assert.Equal(t, name, got)
	d, err := c.Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, name, d.Name)

	err = c.Rename(ctx, otherName)
	require.ErrorIs(t, err, wire.ErrConflict)
	assert.Contains(t, err.Error(), "belongs to another container")
	got, err = c.Name(ctx)
	require.NoError(t, err)
	assert.Equal(t, name, got, "a failed rename keeps the name")

	require.ErrorIs(t, c.Rename(ctx, ""), container.ErrInvalidSpec)
	err = c.Rename(ctx, "no spaces allowed")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rename "+c.String())
}

func TestResizeTTY(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := h.Container(busybox).Cmd("sleep", "3600").Tty().Start()

	for _, size := range [][2]int{{40, 120}, {33, 101}} {
		require.NoError(t, c.ResizeTTY(ctx, size[0], size[1]))
		// /dev/console is the container's terminal.
		got := exec(t, c.Container, "sh", "-c", "stty size < /dev/console")
		assert.Equal(t, fmt.Sprintf("%d %d\n", size[0], size[1]), got)
	}

	require.ErrorIs(t, c.ResizeTTY(ctx, 0, 80), container.ErrInvalidSpec)
	require.ErrorIs(t, c.ResizeTTY(ctx, 24, 70000), container.ErrInvalidSpec)

	plain := h.Container(busybox).Cmd("sleep", "3600").Start()
	err := plain.ResizeTTY(ctx, 24, 80)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "has no TTY")
}
