package container_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/internal/wire"
)

// gated exits with code 3 once /go exists.
const gated = "while [ ! -f /go ]; do sleep 0.05; done; exit 3"

func result(t *testing.T, ch <-chan container.WaitResult) container.WaitResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("no wait result within 30s")
		return container.WaitResult{}
	}
}

// requireExit fails unless ch delivers, within 30 s, a result without
// error and with exit code code.
func requireExit(t *testing.T, ch <-chan container.WaitResult, code int, msgAndArgs ...any) {
	t.Helper()
	r := result(t, ch)
	require.NoError(t, r.Err)
	assert.Equal(t, code, r.ExitCode, msgAndArgs...)
}

func TestWaitNotRunning(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := run(t, h, container.Spec{Cmd: []string{"sh", "-c", "exit 5"}}, "")

	for _, cond := range []string{"not-running", ""} {
		code, err := c.Wait(ctx, cond)
		require.NoError(t, err)
		assert.Equal(t, 5, code, "condition %q", cond)
	}
	// Already stopped: answered at once, through WaitChan too.
	ch, err := c.WaitChan(ctx, "not-running")
	require.NoError(t, err)
	requireExit(t, ch, 5)
}

func TestWaitNextExit(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := h.Container(busybox).Cmd("sh", "-c", gated).Start()

	ch, err := c.WaitChan(ctx, "next-exit")
	require.NoError(t, err)
	exec(t, c.Container, "touch", "/go")
	requireExit(t, ch, 3)

	// Stopped now: not-running answers at once, next-exit waits for the
	// next run.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = c.Wait(short, "next-exit")
	require.ErrorIs(t, err, context.DeadlineExceeded)

	ch, err = c.WaitChan(ctx, "next-exit")
	require.NoError(t, err)
	require.NoError(t, c.Start(ctx)) // /go is still there: exits 3 at once
	requireExit(t, ch, 3)
}

func TestWaitRemoved(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := h.Container(busybox).Cmd("sleep", "3600").Start()

	ch, err := c.WaitChan(ctx, "removed")
	require.NoError(t, err)
	select {
	case r := <-ch:
		t.Fatalf("removed answered before the removal: %+v", r)
	case <-time.After(200 * time.Millisecond):
	}
	require.NoError(t, c.Remove(ctx))
	requireExit(t, ch, 137, "killed by the forced removal")

	// A container stopped before: the exit code it had.
	d := run(t, h, container.Spec{Cmd: []string{"sh", "-c", "exit 4"}}, "")
	_, err = d.WaitExit(ctx)
	require.NoError(t, err)
	waitCh, err := d.WaitChan(ctx, "removed")
	require.NoError(t, err)
	require.NoError(t, d.Remove(ctx))
	assert.Equal(t, 4, result(t, waitCh).ExitCode)

	// Once gone there is nothing to wait for.
	_, err = d.Wait(ctx, "removed")
	require.ErrorIs(t, err, wire.ErrNotFound)
}

func TestWaitBadCondition(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	c := h.Container(busybox).Cmd("sleep", "3600").Start()
	_, err := c.WaitChan(t.Context(), "exited")
	require.ErrorIs(t, err, container.ErrInvalidSpec)
	assert.Contains(t, err.Error(), "next-exit")
}
