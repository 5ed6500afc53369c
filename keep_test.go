package berth_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/testenv"
)

// With BERTH_KEEP_FAILED=1 a failed test's containers stay, past the
// binary's end and its watchdog, and the output says how to reach them;
// berth prune (RemoveSession) removes them later.
func TestKeepFailed(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDiagnoseHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "BERTH_DIAGNOSE_CHILD=1", "BERTH_KEEP_FAILED=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the child test fails:\n%s", out)
	m := regexp.MustCompile(`container ([0-9a-f]{12}): docker exec -it [0-9a-f]{12} sh; docker logs [0-9a-f]{12}`).FindSubmatch(out)
	require.NotNil(t, m, "the output says how to reach the kept container:\n%s", out)
	s := regexp.MustCompile(`berth prune --session ([0-9a-f-]{36})`).FindSubmatch(out)
	require.NotNil(t, s, "the output says how to remove it:\n%s", out)
	assert.NotContains(t, string(out), "were left on the engine (a leak)", "a kept container is not a leak")

	c := testenv.Client(t)
	session := string(s[1])
	t.Cleanup(func() { c.RemoveSession(context.Background(), session) })
	time.Sleep(3 * time.Second) // the watchdog, had it not been told, would sweep now
	rs, err := c.Containers(t.Context(), engine.Labelled(engine.SessionSelector(session)))
	require.NoError(t, err)
	require.Len(t, rs, 1, "the failed test's container is kept")
	assert.Equal(t, string(m[1]), rs[0].ID[:12])
	removed, err := c.RemoveSession(t.Context(), session)
	require.NoError(t, err)
	assert.Len(t, removed, 1)
}
