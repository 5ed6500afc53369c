package berth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/wait"
)

// The hooks run at their steps, in order, with a handle that works there:
// before start the container has not run, at ready the wait has passed,
// and at cleanup it still runs, before it is removed.
func TestLifecycleHooks(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var steps []string
	step := func(s string) { mu.Lock(); steps = append(steps, s); mu.Unlock() }
	t.Run("inner", func(t *testing.T) {
		h := berth.New(t)
		h.Container(busybox).Cmd("sh", "-c", "echo up; exec sleep 600").
			WaitFor(wait.ForLog("up")).
			OnCreated(func(ctx context.Context, c *berth.Container) error {
				st, err := c.State(ctx)
				if err == nil && !st.Running {
					step("created")
				}
				return err
			}).
			OnStarted(func(ctx context.Context, c *berth.Container) error { step("started"); return nil }).
			OnReady(func(ctx context.Context, c *berth.Container) error {
				out, err := c.LogsSnapshot(ctx)
				if err == nil && strings.Contains(string(out.Stdout), "up") {
					step("ready")
				}
				return err
			}).
			OnRemove(func(ctx context.Context, c *berth.Container) {
				if res, err := c.Exec(ctx, []string{"echo", "still-here"}); err == nil && strings.Contains(string(res.Stdout), "still-here") {
					step("remove")
				}
			}).
			Start()
		step("test body")
	})
	assert.Equal(t, []string{"created", "started", "ready", "test body", "remove"}, steps)

	// A hook's error fails the start, names the hook, and leaves nothing.
	h := berth.New(t)
	boom := errors.New("seed failed")
	_, err := h.Container(busybox).Cmd("sleep", "600").
		OnReady(func(context.Context, *berth.Container) error { return boom }).StartE(t.Context())
	require.ErrorIs(t, err, boom)
	assert.ErrorContains(t, err, "Ready hook")
	assert.Empty(t, testenv.Left(t, h.Engine(), h.Session().ID(), t.Name(), engine.KindContainer))
}
