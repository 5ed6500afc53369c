package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/berth-go/berth/internal/tests/netstub"
	"github.com/berth-go/berth/internal/wire"
)

// The commands report an engine that takes calls and never answers within
// the CLI's bound, naming the engine and the call, instead of printing
// nothing for their whole deadline.
func TestCommandsReportHungEngine(t *testing.T) {
	addr := netstub.Hung(t)
	t.Setenv("DOCKER_HOST", "tcp://"+addr)
	t.Setenv("DOCKER_CONFIG", t.TempDir())

	t.Setenv(wire.EnvResponseTimeout, "") // the CLI's own bound
	var stdout, stderr strings.Builder
	start := time.Now()
	code := run([]string{"prune", "-dry-run"}, &stdout, &stderr)
	took := time.Since(start)
	assert.Equal(t, 1, code)
	assert.Less(t, took, cliResponseTimeout+5*time.Second)
	assert.GreaterOrEqual(t, took, cliResponseTimeout-time.Second)
	assert.Contains(t, stderr.String(), "GET /_ping")
	assert.Contains(t, stderr.String(), "tcp://"+addr)
	assert.Contains(t, stderr.String(), "sent no answer within 15s")

	t.Setenv(wire.EnvResponseTimeout, "500ms")
	stdout.Reset()
	start = time.Now()
	code = run([]string{"doctor"}, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Contains(t, stdout.String(), "sent no answer within 500ms")
}
