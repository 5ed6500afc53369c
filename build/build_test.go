//go:build !mutation

// Needs an engine: left out of mutation runs (scripts/mutation.sh).

package build_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/build"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/buildtest"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/registry"
)

func TestMain(m *testing.M) { berth.Main(m) }

// A build asking for a BuildKit-only feature on the classic builder says
// what it needs.
func TestBuildKitOnlyFeatures(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	f := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(f, []byte("s3cr3t-build"), 0o600))
	for name, b := range map[string]*berth.BuildBuilder{
		"secret":        h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN --mount=type=secret,id=token cat /run/secrets/token\n")}).Secret("token", f),
		"cache mount":   h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN --mount=type=cache,target=/c true\n")}),
		"named context": h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\n")}).BuildContext("x", t.TempDir()),
	} {
		_, err := b.ImageE(t.Context())
		require.ErrorIs(t, err, build.ErrNeedsBuildKit, name)
		assert.Contains(t, err.Error(), "classic builder is in use", name)
		assert.NotContains(t, err.Error(), "s3cr3t", name)
	}
}

func TestIdenticalBuildsShareOneResult(t *testing.T) {
	h, forget := buildtest.ParallelHarness(t)
	files := map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN echo " + testenv.Unique(t) + " > /id\n")}
	ids := make([]string, 3)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id, err := h.BuildFiles(files).ImageE(context.Background())
			assert.NoError(t, err)
			ids[i] = id
		}(i)
	}
	wg.Wait()
	forget(ids[0])
	assert.Equal(t, ids[0], ids[1])
	assert.Equal(t, ids[0], ids[2])

	// Unchanged input later: the image is reused, not rebuilt.
	start := time.Now()
	res, err := build.Build(t.Context(), h.Engine(), build.FilesContext(files), build.Options{})
	require.NoError(t, err)
	assert.True(t, res.Cached)
	assert.Equal(t, ids[0], res.ImageID)
	t.Logf("unchanged build skipped in %s", time.Since(start))

	// Two different builds in parallel both work.
	other := map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN echo other " + testenv.Unique(t) + " > /id\n")}
	var a, b string
	wg.Add(2)
	go func() { defer wg.Done(); a, _ = h.BuildFiles(other).ImageE(context.Background()) }()
	go func() { defer wg.Done(); b, _ = h.BuildFiles(files).NoCache().ImageE(context.Background()) }()
	wg.Wait()
	forget(a)
	forget(b)
	assert.NotEmpty(t, a)
	assert.NotEmpty(t, b)
	assert.NotEqual(t, a, b)
}

func TestTagsRemovedAtCleanupUnlessKept(t *testing.T) {
	t.Parallel()
	forget := testenv.RemoveImages(t)
	c, err := wire.New()
	require.NoError(t, err)
	tag := "berth-test/tagged:" + strings.ToLower(strings.ReplaceAll(testenv.Unique(t), "/", "-"))
	t.Run("inner", func(t *testing.T) {
		h := berth.New(t)
		id := h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nLABEL n=" + testenv.Unique(t) + "\n")}).Tag(tag).Image()
		forget(id)
		_, err := testenv.Wire(h.Engine()).ImageInspect(t.Context(), tag)
		require.NoError(t, err)
	})
	_, err = c.ImageInspect(context.Background(), tag)
	assert.ErrorIs(t, err, wire.ErrNotFound, "the tag is gone after the test")
}

func BenchmarkUnchangedBuildSkip(b *testing.B) {
	c, err := wire.New()
	require.NoError(b, err)
	files := map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN echo bench-skip > /id\n")}
	res, err := build.Build(context.Background(), testenv.Public(c), build.FilesContext(files), build.Options{})
	require.NoError(b, err)
	b.Cleanup(func() { c.ImageRemove(context.Background(), res.ImageID, true, false) })
	for b.Loop() {
		r, err := build.Build(context.Background(), testenv.Public(c), build.FilesContext(files), build.Options{})
		if err != nil || !r.Cached {
			b.Fatal(err, r.Cached)
		}
	}
}

// This binary does not import build/buildkit: asking for BuildKit says so.
func TestForcedBuildKitWithoutTheBackend(t *testing.T) {
	t.Setenv("BERTH_BUILDER", "buildkit")
	c, err := wire.New()
	require.NoError(t, err)
	_, err = build.Build(t.Context(), testenv.Public(c), build.FilesContext(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\n")}), build.Options{})
	require.ErrorIs(t, err, build.ErrNeedsBuildKit)
	assert.Contains(t, err.Error(), "build/buildkit")
}

// dockerd's classic builder looks a step up in its cache by reading every
// child of the parent image; one removed in between (another test's
// cleanup, a docker rmi) used to fail the build with `unable to find image
// "sha256:..."`. Here builders add and remove children of busybox:1.36 as
// fast as they can, so lookups keep meeting removed siblings; every build
// must still succeed.
func TestCacheLookupRace(t *testing.T) {
	c := testenv.Engine(t)
	if !c.IsPodman(t.Context()) {
		// On Podman it runs alone: there, removing images this fast makes
		// other clients' image inspects fail ("image not known").
		t.Parallel()
	}
	// Podman keeps an image per step, which a remove of the last one
	// leaves behind: every image the builds make carries this label (it is
	// in their one step), and all that do go at the end.
	label := engine.LabelTest + "=" + t.Name() + "-" + strconv.Itoa(os.Getpid())
	t.Cleanup(func() {
		imgs, err := c.ImageList(context.Background(), wire.Filters{"label": {label}})
		require.NoError(t, err)
		for _, im := range imgs {
			c.ImageRemove(context.Background(), im.ID, true, false)
		}
	})
	var (
		mu       sync.Mutex
		builds   int
		failures []string
		wg       sync.WaitGroup
	)
	deadline := time.Now().Add(6 * time.Second)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				df := fmt.Sprintf("FROM busybox:1.36\nLABEL %s churn=%s-%d-%d\n", label, testenv.Unique(t), g, i)
				id, err := build.Classic.Build(context.Background(), testenv.Public(c), build.FilesContext(map[string][]byte{"Dockerfile": []byte(df)}), build.Options{})
				mu.Lock()
				builds++
				if err != nil {
					failures = append(failures, err.Error())
				}
				mu.Unlock()
				if id != "" {
					assert.NoError(t, c.ImageRemove(context.Background(), id, false, false))
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d builds while siblings came and went", builds)
	assert.Empty(t, failures)
}

// askedKeychain records the registries it was asked about.
type askedKeychain struct {
	mu    sync.Mutex
	hosts []string
}

func (k *askedKeychain) Resolve(_ context.Context, host string) (registry.AuthConfig, registry.Source, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.hosts = append(k.hosts, host)
	return registry.AuthConfig{}, registry.Source{Kind: registry.SourceAnonymous}, nil
}

// A build FROM an image the engine has pulls nothing, so no credential
// helper is asked (one may prompt the user, or be slow); Pull asks.
func TestLocalBaseImageAsksNoCredentials(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	df := "FROM busybox:1.36\nRUN echo " + testenv.Unique(t) + " > /id\n"
	kc := &askedKeychain{}
	_, err := build.Build(t.Context(), h.Engine(), build.FilesContext(map[string][]byte{"Dockerfile": []byte(df)}), build.Options{Keychain: kc})
	require.NoError(t, err)
	assert.Empty(t, kc.hosts, "the build asked for credentials of a registry it does not pull from")
}

// TestBuildScenarios expects what the classic builder's builds look like;
// this test binary does not import build/buildkit.
func TestBuildScenarios(t *testing.T) {
	buildtest.Scenarios(t, buildtest.Expect{Backend: "classic", TargetStep: "RUN echo test-stage > /stage",
		FailedRUN: []string{"exit code: 7", "at step 2/"}})
}
