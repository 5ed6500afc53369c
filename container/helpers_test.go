package container_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
)

const busybox = "busybox:1.36"

// run starts spec with the labels of h's session and test, for specs the
// builder cannot express (OpenStdin), or with a session label of the
// caller's choosing. The container is removed when the test ends.
func run(t *testing.T, h *berth.Harness, spec container.Spec, session string) *container.Container {
	t.Helper()
	if session == "" {
		session = h.Session().ID()
	}
	if spec.Image == "" {
		spec.Image = busybox
	}
	labels := map[string]string{engine.LabelSession: session, engine.LabelTest: t.Name()}
	ctr, err := container.Run(t.Context(), h.Engine(), spec, container.RunOptions{
		Labels: labels,
		Created: func(kind engine.Kind, id string) {
			t.Cleanup(func() { removeContainer(t, h.Engine(), id) })
		},
	})
	require.NoError(t, err)
	return ctr
}

func removeContainer(t *testing.T, c *engine.Client, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Remove(ctx, engine.Resource{Kind: engine.KindContainer, ID: id}); err != nil {
		t.Error(err)
	}
}

// sleeping starts, for a parallel test, a busybox that stays up for the
// test's calls, and returns it with the test's harness.
func sleeping(t *testing.T) (*berth.Harness, *berth.Container) {
	t.Helper()
	t.Parallel()
	h := berth.New(t)
	return h, h.Container(busybox).Cmd("sleep", "3600").Start()
}

// exited runs cmd to completion and returns the stopped container.
func exited(t *testing.T, h *berth.Harness, session string, cmd ...string) *container.Container {
	t.Helper()
	c := run(t, h, container.Spec{Cmd: cmd}, session)
	_, err := c.WaitExit(t.Context())
	require.NoError(t, err)
	return c
}

// exec runs cmd in c and fails the test unless it exits 0.
func exec(t *testing.T, c *container.Container, cmd ...string) string {
	t.Helper()
	res, err := c.Exec(t.Context(), cmd)
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode, "exec %q: stdout %q stderr %q", cmd, res.Stdout, res.Stderr)
	return string(res.Stdout)
}
