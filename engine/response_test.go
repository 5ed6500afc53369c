package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/netstub"
)

func TestWithResponseTimeout(t *testing.T) {
	addr := netstub.Hung(t)
	c, err := engine.New(engine.WithHost("tcp://"+addr), engine.WithResponseTimeout(300*time.Millisecond))
	require.NoError(t, err)
	defer c.Close()
	start := time.Now()
	_, err = c.Version(context.Background())
	assert.ErrorIs(t, err, engine.ErrNoResponse)
	assert.ErrorIs(t, err, engine.ErrDaemonUnreachable)
	assert.Contains(t, err.Error(), addr)
	assert.Less(t, time.Since(start), 3*time.Second)
}
