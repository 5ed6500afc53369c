package container_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
)

func TestPruneOnlyItsSession(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	mine, other := "prune-test-"+uuid.NewString(), "prune-other-"+uuid.NewString()

	stopped := exited(t, h, mine, "true")
	stopped2 := exited(t, h, mine, "sh", "-c", "exit 2")
	running := run(t, h, container.Spec{Cmd: []string{"sleep", "3600"}}, mine)
	foreign := exited(t, h, other, "true")

	ids, err := container.Prune(ctx, h.Engine(), mine)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{stopped.ID(), stopped2.ID()}, ids)

	for _, gone := range []*container.Container{stopped, stopped2} {
		_, err := testenv.Wire(h.Engine()).ContainerInspect(ctx, gone.ID())
		require.ErrorIs(t, err, wire.ErrNotFound, "pruned")
	}
	for _, kept := range []*container.Container{running, foreign} {
		_, err := testenv.Wire(h.Engine()).ContainerInspect(ctx, kept.ID())
		require.NoError(t, err, "a running container and one of another session survive")
	}

	ids, err = container.Prune(ctx, h.Engine(), mine)
	require.NoError(t, err)
	assert.Empty(t, ids, "nothing left to prune")
}

func TestPruneBadSession(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	for _, id := range []string{"", "a=b", "a,b"} {
		_, err := container.Prune(t.Context(), h.Engine(), id)
		require.ErrorIs(t, err, container.ErrInvalidSpec, "%q", id)
		assert.Contains(t, err.Error(), "session ID")
	}
}
