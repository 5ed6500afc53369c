package build_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/build"
	"github.com/berth-go/berth/internal/testenv"
	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/registry"
	"github.com/berth-go/berth/wait"
)

func TestMain(m *testing.M) { berth.Main(m) }

// unique makes a build input differ per run, so the cross-run cache does
// not hide the build under test.
func unique(t *testing.T) string { return fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano()) }

func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

func TestMultiStageTargetArgsLabels(t *testing.T) {
	t.Parallel()
	forget := testenv.RemoveImages(t)
	h := berth.New(t)
	dir := tree(t, map[string]string{
		"Dockerfile": `FROM busybox:1.36 AS base
ARG GREETING=hello
RUN echo "$GREETING from base" > /greeting
FROM base AS test
RUN echo test-stage > /stage
FROM base AS prod
RUN echo prod-stage > /stage
`,
		"nonce": unique(t),
	})
	var log bytes.Buffer
	img := h.Build(dir).Target("test").Arg("GREETING", "bonjour").Label("team", "berth").Output(&log).Image()
	forget(img)
	assert.Contains(t, log.String(), "Step")
	ins, err := h.Engine().ImageInspect(t.Context(), img)
	require.NoError(t, err)
	assert.Equal(t, "berth", ins.Config.Labels["team"])
	c := h.Container(img).Cmd("cat", "/greeting", "/stage").WaitFor(wait.ForExit()).Start()
	out, err := c.LogsSnapshot(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "bonjour from base\ntest-stage\n", string(out.Stdout))
}

func TestDockerignoreExcludesLargeDir(t *testing.T) {
	t.Parallel()
	forget := testenv.RemoveImages(t)
	h := berth.New(t)
	dir := tree(t, map[string]string{
		"Dockerfile":    "FROM busybox:1.36\nCOPY . /ctx\n",
		".dockerignore": "node_modules\n*.tmp\n",
		"app.txt":       unique(t),
		"scratch.tmp":   "x",
	})
	big := filepath.Join(dir, "node_modules")
	require.NoError(t, os.MkdirAll(big, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(big, "blob"), bytes.Repeat([]byte("x"), 50<<20), 0o644))
	start := time.Now()
	img := h.Build(dir).Image()
	forget(img)
	t.Logf("build with a 50 MB ignored dir: %s", time.Since(start))
	res, err := h.Container(img).Cmd("sleep", "60").Start().Exec(t.Context(), []string{"ls", "-a", "/ctx"})
	require.NoError(t, err)
	assert.Contains(t, string(res.Stdout), "app.txt")
	assert.NotContains(t, string(res.Stdout), "node_modules")
	assert.NotContains(t, string(res.Stdout), "scratch.tmp")
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	tests := []struct {
		name  string
		b     func() *berth.BuildBuilder
		is    error
		wants []string
	}{
		{"missing context dir", func() *berth.BuildBuilder { return h.Build(filepath.Join(t.TempDir(), "nope")) }, build.ErrContextNotFound, []string{"nope"}},
		{"missing Dockerfile", func() *berth.BuildBuilder { return h.Build(t.TempDir()) }, build.ErrDockerfileNotFound, []string{"Dockerfile"}},
		{"failing RUN", func() *berth.BuildBuilder {
			return h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN echo about to fail " + unique(t) + " && echo broken-output >&2 && exit 7\n")})
		}, nil, []string{"exit 7", "broken-output", "returned a non-zero code: 7", "Step 2/"}},
		{"syntax error", func() *berth.BuildBuilder {
			return h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUNN echo typo\n")})
		}, nil, []string{"line 2", "runn"}},
		{"secret on the classic builder", func() *berth.BuildBuilder {
			f := filepath.Join(t.TempDir(), "token")
			os.WriteFile(f, []byte("s3cr3t-build"), 0o600)
			// This test binary does not import build/buildkit: classic.
			return h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN --mount=type=secret,id=token cat /run/secrets/token\n")}).Secret("token", f)
		}, build.ErrNeedsBuildKit, []string{"BuildKit"}},
		{"secret file missing", func() *berth.BuildBuilder {
			return h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\n")}).Secret("token", "/nope/token")
		}, nil, []string{"Secret", "/nope/token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.b().ImageE(ctx)
			require.Error(t, err)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			for _, w := range tt.wants {
				assert.Contains(t, strings.ToLower(err.Error()), strings.ToLower(w))
			}
			assert.NotContains(t, err.Error(), "s3cr3t")
		})
	}
}

func TestIdenticalBuildsShareOneResult(t *testing.T) {
	t.Parallel()
	forget := testenv.RemoveImages(t)
	h := berth.New(t)
	files := map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN echo " + unique(t) + " > /id\n")}
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
	other := map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN echo other " + unique(t) + " > /id\n")}
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
	tag := "berth-test/tagged:" + strings.ToLower(strings.ReplaceAll(unique(t), "/", "-"))
	t.Run("inner", func(t *testing.T) {
		h := berth.New(t)
		id := h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nLABEL n=" + unique(t) + "\n")}).Tag(tag).Image()
		forget(id)
		_, err := h.Engine().ImageInspect(t.Context(), tag)
		require.NoError(t, err)
	})
	_, err = c.ImageInspect(context.Background(), tag)
	assert.ErrorIs(t, err, wire.ErrNotFound, "the tag is gone after the test")
}

// TestPrivateBaseImage builds FROM an image on a registry that wants
// credentials: the classic builder gets them through X-Registry-Config.
func TestPrivateBaseImage(t *testing.T) {
	t.Parallel()
	forget := testenv.RemoveImages(t)
	h := berth.New(t)
	ctx := t.Context()
	const htpasswd = "berth:$2y$05$28MfBrGyq3L/x0iArU.GBe6EoemIgf1dSSjUIn3AL5rJUxAvOFQ/a\n" // s3cr3t-registry-pw
	reg := h.Container("registry:2.8").
		Env("REGISTRY_AUTH", "htpasswd").Env("REGISTRY_AUTH_HTPASSWD_REALM", "berth").Env("REGISTRY_AUTH_HTPASSWD_PATH", "/auth/htpasswd").
		FileContent("/auth/htpasswd", []byte(htpasswd), 0o644).
		Port("5000/tcp").
		WaitFor(wait.ForHTTP("/v2/").Port("5000/tcp").Status(401)).
		Start()
	port, err := reg.MappedPort(ctx, "5000/tcp")
	require.NoError(t, err)
	host := fmt.Sprintf("localhost:%d", port)
	base := host + "/private/base:1"
	creds := registry.AuthConfig{Username: "berth", Password: "s3cr3t-registry-pw", ServerAddress: host}
	kc := registry.Static(map[string]registry.AuthConfig{host: creds})
	require.NoError(t, h.Tag(ctx, "busybox:1.36", base))
	require.NoError(t, registry.Push(ctx, h.Engine(), kc, base, nil))
	require.NoError(t, h.Engine().ImageRemove(ctx, base, false, false))

	df := []byte("FROM " + base + "\nRUN echo " + unique(t) + " > /id\n")
	_, err = build.Build(ctx, h.Engine(), build.FilesContext(map[string][]byte{"Dockerfile": df}), build.Options{Keychain: registry.Static(nil)})
	require.Error(t, err, "without credentials the base image cannot be pulled")
	assert.True(t, errors.Is(err, wire.ErrUnauthorized), "%v", err)

	res, err := build.Build(ctx, h.Engine(), build.FilesContext(map[string][]byte{"Dockerfile": df}), build.Options{Keychain: kc})
	require.NoError(t, err)
	forget(res.ImageID)
	h.Engine().ImageRemove(ctx, base, true, false)
}

func BenchmarkUnchangedBuildSkip(b *testing.B) {
	c, err := wire.New()
	require.NoError(b, err)
	files := map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN echo bench-skip > /id\n")}
	res, err := build.Build(context.Background(), c, build.FilesContext(files), build.Options{})
	require.NoError(b, err)
	b.Cleanup(func() { c.ImageRemove(context.Background(), res.ImageID, true, false) })
	for b.Loop() {
		r, err := build.Build(context.Background(), c, build.FilesContext(files), build.Options{})
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
	_, err = build.Build(t.Context(), c, build.FilesContext(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\n")}), build.Options{})
	require.ErrorIs(t, err, build.ErrNeedsBuildKit)
	assert.Contains(t, err.Error(), "build/buildkit")
}
