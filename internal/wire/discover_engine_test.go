//go:build !mutation

// Needs an engine at /var/run/docker.sock: left out of mutation runs.

package wire

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With nothing naming an engine, the search finds this machine's engine
// at /var/run/docker.sock, and a client made from the environment talks
// to it.
func TestSocketSearchFindsTheRealEngine(t *testing.T) {
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("DOCKER_CONTEXT", "")
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ep, err := EndpointFromEnv()
	require.NoError(t, err)
	assert.Equal(t, "unix:///var/run/docker.sock", ep.Host)
	assert.Equal(t, "found: /var/run/docker.sock (Docker)", ep.From)

	c, err := New()
	require.NoError(t, err)
	defer c.Close()
	p, err := c.Ping(context.Background())
	require.NoError(t, err, "these tests need the engine at /var/run/docker.sock: make engine")
	assert.NotEmpty(t, p.APIVersion)
	assert.Equal(t, ep.From, c.Endpoint().From)
}
