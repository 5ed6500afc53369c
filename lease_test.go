package berth_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/testenv"
)

// A resource whose lease ran out is removed by the next session that
// starts, though its own session left no watchdog; one still leased stays.
func TestNewSessionRemovesExpiredLeases(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := testenv.Client(t)
	dead, alive := uuid.NewString(), uuid.NewString()
	run := func(session string, expires time.Time) string {
		ctr, err := container.Run(ctx, c, container.Spec{Image: busybox, Cmd: []string{"sleep", "600"}}, container.RunOptions{Labels: map[string]string{
			engine.LabelSession: session, engine.LabelTest: t.Name(),
			engine.LabelExpires: strconv.FormatInt(expires.Unix(), 10),
		}})
		require.NoError(t, err)
		t.Cleanup(func() { c.RemoveSession(context.Background(), session) })
		return ctr.ID()
	}
	expired := run(dead, time.Now().Add(-time.Minute))
	leased := run(alive, time.Now().Add(time.Hour))

	s, err := berth.NewSession(ctx, berth.WithoutWatchdog())
	require.NoError(t, err)
	defer s.Close(ctx)
	require.Eventually(t, func() bool {
		rs, err := c.Containers(ctx, engine.Labelled(engine.SessionSelector(dead)))
		return err == nil && len(rs) == 0
	}, 30*time.Second, 100*time.Millisecond, "the expired container %.12s is still there", expired)
	rs, err := c.Containers(ctx, engine.Labelled(engine.SessionSelector(alive)))
	require.NoError(t, err)
	require.Len(t, rs, 1, "a leased container is kept")
	assert.Equal(t, leased, rs[0].ID)
	assert.False(t, rs[0].Expired(time.Now()))

	// The session's own resources carry a lease past the test timeout,
	// and say where the session runs.
	ctr, err := s.Container(busybox).Cmd("true").StartE(ctx)
	require.NoError(t, err)
	mine, err := c.Containers(ctx, engine.Labelled(engine.SessionSelector(s.ID())))
	require.NoError(t, err)
	require.Len(t, mine, 1)
	assert.Equal(t, ctr.ID(), mine[0].ID)
	assert.True(t, mine[0].Expires().After(time.Now().Add(10*time.Minute)), "lease %v", mine[0].Expires())
	assert.NotEmpty(t, mine[0].Labels[engine.LabelHost])
	assert.Contains(t, mine[0].Labels[engine.LabelPIDNS], "pid:[")
}
