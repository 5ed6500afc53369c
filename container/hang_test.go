package container_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/netstub"
	"github.com/berth-go/berth/internal/wire"
)

// A start against an engine that takes calls and never answers ends with
// an error naming the engine and the call, with no deadline on ctx.
func TestStartAgainstHungEngine(t *testing.T) {
	host := "tcp://" + netstub.Hung(t)
	t.Setenv(wire.EnvResponseTimeout, "500ms")
	ctx := context.Background()

	start := time.Now()
	_, err := berth.NewSession(ctx, berth.WithEngine(host), berth.WithoutWatchdog())
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.ErrorIs(t, err, engine.ErrDaemonUnreachable)
	assert.Contains(t, err.Error(), host)
	assert.Contains(t, err.Error(), "GET /_ping")

	// Past version negotiation, the create is bounded the same way.
	c, err := engine.New(engine.WithHost(host), engine.WithAPIVersion("1.41"))
	require.NoError(t, err)
	defer c.Close()
	start = time.Now()
	_, err = container.Run(ctx, c, container.Spec{Image: busybox}, container.RunOptions{})
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.ErrorIs(t, err, wire.ErrNoResponse)
	assert.Contains(t, err.Error(), host)
}
