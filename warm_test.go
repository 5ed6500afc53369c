package berth_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/wait"
)

// warmBuilder is a busybox container whose "initialisation" takes a while
// and leaves state on disk, like initdb.
func warmBuilder(h *berth.Harness, key, script string) *berth.ContainerBuilder {
	return h.Container(busybox).
		FileContent("/init/script.sh", []byte(script), 0o755).
		Cmd("sh", "-c", "trap 'exit 0' TERM; if [ ! -f /state/done ]; then echo initializing; sh /init/script.sh; mkdir -p /state; date +%s%N > /state/done; fi; echo ready; sleep 3600 & wait").
		WaitFor(logSeen("ready")).
		Warm(key)
}

// logSeen polls the log for a line: a minimal strategy so these tests do
// not depend on wait/'s strategies.
type logSeen string

func (l logSeen) Ready(ctx context.Context, t wait.Target) error {
	for {
		rc, err := t.Logs(ctx, false)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		if strings.Contains(string(b), string(l)) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (l logSeen) String() string { return "log " + string(l) }

func TestWarmStartCachesInitializedState(t *testing.T) {
	t.Parallel()
	removeCache := testenv.RemoveImages(t)
	h := berth.New(t)
	ctx := t.Context()
	key := testenv.Unique(t)
	var setupRuns atomic.Int32
	first := warmBuilder(h, key, "echo v1 > /state-v1").
		WarmSetup(func(ctx context.Context, c *berth.Container) error {
			setupRuns.Add(1)
			_, err := c.Exec(ctx, []string{"sh", "-c", "echo migrated > /migrated"})
			return err
		}).Start()
	res := first.WarmResult()
	require.NotNil(t, res)
	removeCache(res.Image)
	assert.False(t, res.Hit)
	// The miss started the test's container cold, set up, and fills the
	// cache in a container of its own, set up too.
	got, err := first.ReadFile(ctx, "/migrated")
	require.NoError(t, err)
	assert.Equal(t, "migrated\n", string(got))
	require.NoError(t, res.Filled(ctx))
	assert.Equal(t, int32(2), setupRuns.Load())
	img, err := testenv.Wire(h.Engine()).ImageInspect(ctx, res.Image)
	require.NoError(t, err)
	assert.Equal(t, res.Hash, img.Config.Labels[engine.LabelCache])
	assert.Empty(t, img.Config.Labels[engine.LabelSession], "cache images must not belong to a session")

	second := warmBuilder(h, key, "echo v1 > /state-v1").
		WarmSetup(func(ctx context.Context, c *berth.Container) error { setupRuns.Add(1); return nil }).Start()
	res2 := second.WarmResult()
	assert.True(t, res2.Hit)
	assert.Equal(t, res.Hash, res2.Hash)
	assert.Equal(t, int32(2), setupRuns.Load(), "setup must not run on a cache hit")
	d, err := second.Inspect(ctx)
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(d.Image, res.Image), "%s runs from %s", d.Image, res.Image) // Podman adds docker.io/
	require.Eventually(t, func() bool {
		out, err := second.LogsSnapshot(ctx)
		return err == nil && strings.Contains(string(out.Stdout), "ready")
	}, 10*time.Second, 10*time.Millisecond)
	out, err := second.LogsSnapshot(ctx)
	require.NoError(t, err)
	assert.NotContains(t, string(out.Stdout), "initializing", "a warm start skips initialisation")
	got, err = second.ReadFile(ctx, "/migrated")
	require.NoError(t, err)
	assert.Equal(t, "migrated\n", string(got))

	// A changed init script is a new cache entry.
	third := warmBuilder(h, key, "echo v2 > /state-v2").Start()
	res3 := third.WarmResult()
	removeCache(res3.Image)
	assert.False(t, res3.Hit)
	assert.NotEqual(t, res.Hash, res3.Hash)
	require.NoError(t, res3.Filled(ctx)) // before its removal at cleanup
}

func TestWarmSetupFailureLeavesNoCache(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	key := testenv.Unique(t)
	b := warmBuilder(h, key, "true").WarmSetup(func(ctx context.Context, c *berth.Container) error {
		return errors.New("migration 3 failed")
	})
	_, err := b.StartE(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "migration 3 failed")
	hash, _, err := container.WarmHash(ctx, h.Engine(), b.Spec(), []string{key})
	require.NoError(t, err)
	_, err = testenv.Wire(h.Engine()).ImageInspect(ctx, container.CacheRef(busybox, hash))
	assert.ErrorIs(t, err, wire.ErrNotFound)
}

func TestWarmConcurrentFillers(t *testing.T) {
	t.Parallel()
	removeCache := testenv.RemoveImages(t)
	h := berth.New(t)
	key := testenv.Unique(t)
	var wg sync.WaitGroup
	var setups atomic.Int32
	results := make([]*container.WarmResult, 3)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := warmBuilder(h, key, "sleep 0.3").
				WarmSetup(func(context.Context, *berth.Container) error { setups.Add(1); return nil }).
				StartE(context.Background())
			if assert.NoError(t, err) {
				results[i] = c.WarmResult()
			}
		}(i)
	}
	wg.Wait()
	require.NotNil(t, results[0])
	removeCache(results[0].Image)
	for _, r := range results {
		require.NotNil(t, r)
		require.NoError(t, r.Filled(t.Context()))
		assert.Equal(t, results[0].Image, r.Image)
	}
	// Three cold starts (or hits) and one fill: parallel misses of one
	// input fill once.
	hits := 0
	for _, r := range results {
		if r.Hit {
			hits++
		}
	}
	assert.Equal(t, int32(3-hits+1), setups.Load(), "setups of %d misses", 3-hits)
	// No temporary tags or untagged cache images are left behind.
	imgs, err := testenv.Wire(h.Engine()).ImageList(t.Context(), wire.Filters{"label": {engine.LabelCache + "=" + results[0].Hash}})
	require.NoError(t, err)
	assert.Len(t, imgs, 1)
	for _, img := range imgs {
		require.Len(t, img.RepoTags, 1)
		assert.True(t, strings.HasSuffix(img.RepoTags[0], results[0].Image), "%v", img.RepoTags) // Podman adds docker.io/
	}
}
