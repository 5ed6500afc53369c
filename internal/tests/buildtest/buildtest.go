// Package buildtest holds the build scenarios every build backend must
// pass against a real engine. The build package's tests run them on the
// classic builder, build/buildkit's on BuildKit; each says in an Expect
// what differs between the two (how the log names a step, how a failing
// RUN is worded).
package buildtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/build"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/registry"
	"github.com/berth-go/berth/wait"
)

// Expect is what a backend's builds look like.
type Expect struct {
	// Backend is the backend the test binary must be using.
	Backend string
	// TargetStep is in the build log when the Dockerfile of MultiStage
	// builds `RUN echo test-stage > /stage` of its stage "test".
	TargetStep string
	// FailedRUN are in the error of a `RUN ... exit 7` that printed
	// "broken-output" to stderr (case-insensitive).
	FailedRUN []string
}

// ParallelHarness marks t parallel and returns its harness and track,
// which removes an image the test made when it ends, after the harness
// removed the test's containers (see testenv.RemoveImages).
func ParallelHarness(t *testing.T) (h *berth.Harness, track func(image string)) {
	t.Helper()
	t.Parallel()
	track = testenv.RemoveImages(t)
	return berth.New(t), track
}

// Scenarios runs every scenario a backend must pass against e, each as a
// parallel subtest named after what it proves.
func Scenarios(t *testing.T, e Expect) {
	t.Parallel()
	for name, scenario := range map[string]func(*testing.T, Expect){
		"MultiStageTargetArgsLabels": MultiStage,
		"Dockerignore":               Dockerignore,
		"BuildErrors":                Errors,
		"PrivateBaseImage":           PrivateBase,
		"NoCacheRebuild":             NoCacheRebuild,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			scenario(t, e)
		})
	}
}

// BenchFiles is the build the benchmarks time, in build/buildkit and in
// bench/: two independent stages that do some work, then a final stage
// that gathers their output and the context.
var BenchFiles = map[string]string{
	"Dockerfile": `FROM busybox:1.36 AS data
RUN dd if=/dev/urandom of=/blob bs=1M count=8 2>/dev/null && sleep 0.3
FROM busybox:1.36 AS tools
RUN seq 1 50000 > /seq && sleep 0.3
FROM busybox:1.36
COPY --from=data /blob /blob
COPY --from=tools /seq /seq
COPY . /src
RUN wc -c /blob /seq > /sizes
`,
	"app/main.go": "package main\n\nfunc main() {}\n",
	"app/go.mod":  "module app\n",
}

// EngineArch is the engine's architecture in Go's and OCI's words
// ("amd64", "arm64"): what an image built without a platform is for.
func EngineArch(t testing.TB, h *berth.Harness) string {
	t.Helper()
	v, err := h.Engine().Server(t.Context())
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	if v.Arch == "" {
		t.Fatal("the engine reports no architecture")
	}
	return v.Arch
}

// ForeignArch is an architecture the engine does not run natively.
func ForeignArch(t testing.TB, h *berth.Harness) string {
	t.Helper()
	if EngineArch(t, h) == "arm64" {
		return "amd64"
	}
	return "arm64"
}

// Output runs img with cmd until it exits and returns what it printed.
func Output(t testing.TB, h *berth.Harness, img string, cmd ...string) string {
	t.Helper()
	c := h.Container(img).Cmd(cmd...).WaitFor(wait.ForExit()).Start()
	out, err := c.LogsSnapshot(t.Context())
	require.NoError(t, err)
	return string(out.Stdout) + string(out.Stderr)
}

// MultiStage builds one target of a multi-stage Dockerfile with a build
// argument and a label.
func MultiStage(t *testing.T, e Expect) {
	forget := testenv.RemoveImages(t)
	h := berth.New(t)
	dir := testenv.Tree(t, map[string]string{
		"Dockerfile": `FROM busybox:1.36 AS base
ARG GREETING=hello
RUN echo "$GREETING from base" > /greeting
FROM base AS test
RUN echo test-stage > /stage
FROM base AS prod
RUN echo prod-stage > /stage
`,
		"nonce": testenv.Unique(t),
	})
	var log bytes.Buffer
	img := h.Build(dir).Target("test").Arg("GREETING", "bonjour").Label("team", "berth").Output(&log).Image()
	forget(img)
	assert.Contains(t, log.String(), e.TargetStep)
	assert.NotContains(t, log.String(), "prod-stage", "a stage the target does not need is not built")
	ins, err := testenv.Wire(h.Engine()).ImageInspect(t.Context(), img)
	require.NoError(t, err)
	assert.Equal(t, "berth", ins.Config.Labels["team"])
	assert.Equal(t, e.Backend, ins.Config.Labels[engine.LabelBuild])
	assert.Equal(t, "bonjour from base\ntest-stage\n", Output(t, h, img, "cat", "/greeting", "/stage"))
}

// Dockerignore builds a directory whose .dockerignore excludes a 50 MB
// directory, a pattern with an exception, and the Dockerfile itself.
func Dockerignore(t *testing.T, e Expect) {
	forget := testenv.RemoveImages(t)
	h := berth.New(t)
	dir := testenv.Tree(t, map[string]string{
		"Dockerfile":    "FROM busybox:1.36\nCOPY . /ctx\n",
		".dockerignore": "# build output\nnode_modules\n*.tmp\n!keep.tmp\nDockerfile\n",
		"app.txt":       testenv.Unique(t),
		"scratch.tmp":   "x",
		"keep.tmp":      "kept",
	})
	big := filepath.Join(dir, "node_modules")
	require.NoError(t, os.MkdirAll(big, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(big, "blob"), bytes.Repeat([]byte("x"), 50<<20), 0o644))
	start := time.Now()
	img := h.Build(dir).Image()
	forget(img)
	t.Logf("%s build with a 50 MB ignored dir: %s", e.Backend, time.Since(start))
	assert.Equal(t, "app.txt\nkeep.tmp\n", Output(t, h, img, "ls", "/ctx"), "the Dockerfile is ignored and still builds")
}

// Errors are the mistakes every backend must explain: each error says what
// went wrong and where.
func Errors(t *testing.T, e Expect) {
	h := berth.New(t)
	ctx := t.Context()
	files := func(df string) map[string][]byte { return map[string][]byte{"Dockerfile": []byte(df)} }
	tests := []struct {
		name  string
		b     func() *berth.BuildBuilder
		is    error
		wants []string
	}{
		{"missing context dir", func() *berth.BuildBuilder { return h.Build(filepath.Join(t.TempDir(), "nope")) }, build.ErrContextNotFound, []string{"nope"}},
		{"missing Dockerfile", func() *berth.BuildBuilder { return h.Build(t.TempDir()) }, build.ErrDockerfileNotFound, []string{"Dockerfile"}},
		{"failing RUN", func() *berth.BuildBuilder {
			return h.BuildFiles(files("FROM busybox:1.36\nRUN echo about to fail " + testenv.Unique(t) + " && echo broken-output >&2 && exit 7\n"))
		}, nil, append([]string{"broken-output", "echo about to fail"}, e.FailedRUN...)},
		{"syntax error", func() *berth.BuildBuilder { return h.BuildFiles(files("FROM busybox:1.36\nRUNN echo typo\n")) }, nil, []string{"line 2", "runn"}},
		{"unknown target", func() *berth.BuildBuilder { return h.BuildFiles(files("FROM busybox:1.36 AS one\n")).Target("two") }, nil, []string{"two"}},
		{"secret file missing", func() *berth.BuildBuilder {
			return h.BuildFiles(files("FROM busybox:1.36\n")).Secret("token", "/nope/token")
		}, nil, []string{"Secret", "/nope/token"}},
		{"secret env unset", func() *berth.BuildBuilder {
			return h.BuildFiles(files("FROM busybox:1.36\n")).SecretEnv("x", "BERTH_TEST_SURELY_UNSET")
		}, nil, []string{"BERTH_TEST_SURELY_UNSET"}},
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
			var be *build.Error
			if errors.As(err, &be) {
				assert.Equal(t, e.Backend, be.Backend)
			}
		})
	}
}

// PrivateRegistry starts the registry fixture with htpasswd auth, pushes
// busybox to it as base, removes the engine's copy, and returns base with
// a keychain that holds the credentials.
func PrivateRegistry(t *testing.T, h *berth.Harness) (base string, kc registry.Keychain) {
	t.Helper()
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
	base = host + "/private/base:1"
	kc = registry.Static(map[string]registry.AuthConfig{host: {Username: "berth", Password: "s3cr3t-registry-pw", ServerAddress: host}})
	require.NoError(t, h.Tag(ctx, "busybox:1.36", base))
	require.NoError(t, registry.Push(ctx, h.Engine(), kc, base, nil))
	require.NoError(t, testenv.Wire(h.Engine()).ImageRemove(ctx, base, false, false))
	t.Cleanup(func() { testenv.Wire(h.Engine()).ImageRemove(context.Background(), base, true, false) })
	return base, kc
}

// PrivateBase builds FROM an image on a registry that wants credentials:
// without them, or with wrong ones, the error is a *build.AuthError that
// matches wire.ErrUnauthorized, names the registry, what was sent and from
// where, says what to do, and holds no secret; with them the build works.
func PrivateBase(t *testing.T, e Expect) {
	forget := testenv.RemoveImages(t)
	h := berth.New(t)
	ctx := t.Context()
	if h.Engine().IsPodman(ctx) {
		t.Skip("Podman verifies TLS for a registry on localhost; the plain-HTTP registry fixture would have to be listed as insecure in registries.conf (docs/podman.md)")
	}
	base, kc := PrivateRegistry(t, h)
	host := strings.Split(base, "/")[0]
	df := "FROM " + base + "\nRUN echo " + testenv.Unique(t) + " > /id\n"
	bc := build.FilesContext(map[string][]byte{"Dockerfile": []byte(df)})
	refused := func(t *testing.T, err error, sent registry.SourceKind, wants ...string) {
		t.Helper()
		require.Error(t, err)
		t.Logf("%s: %v", e.Backend, err)
		assert.ErrorIs(t, err, wire.ErrUnauthorized)
		assert.ErrorIs(t, err, engine.ErrUnauthorized)
		var ae *build.AuthError
		if assert.ErrorAs(t, err, &ae) {
			assert.Equal(t, host, ae.Registry)
			assert.Equal(t, sent, ae.Source.Kind)
		}
		var be *build.Error
		if assert.ErrorAs(t, err, &be) {
			assert.Equal(t, e.Backend, be.Backend)
		}
		for _, w := range append(wants, "docker login "+host, "DOCKER_AUTH_CONFIG", "config.json", "credHelpers") {
			assert.Contains(t, err.Error(), w)
		}
		assert.NotContains(t, err.Error(), "s3cr3t")
		assert.NotContains(t, err.Error(), "wr0ng-pw")
	}

	t.Run("no credentials", func(t *testing.T) {
		_, err := build.Build(ctx, h.Engine(), bc, build.Options{Keychain: registry.Static(nil)})
		refused(t, err, registry.SourceAnonymous, "registry "+host+" refused the pull without credentials", `Auth("`+host+`", ...)`)
	})
	t.Run("wrong credentials", func(t *testing.T) {
		_, err := h.BuildFiles(map[string][]byte{"Dockerfile": []byte(df)}).
			Auth(host, registry.AuthConfig{Username: "berth", Password: "wr0ng-pw"}).ImageE(ctx)
		refused(t, err, registry.SourceExplicit, "registry "+host+" refused the credentials from Auth(\""+host+"\", ...) on the builder (build.Options.Keychain)")
	})
	t.Run("image of COPY --from", func(t *testing.T) {
		other := build.FilesContext(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nCOPY --from=" + base + " /bin/busybox /copied\nRUN echo " + testenv.Unique(t) + "\n")})
		_, err := build.Build(ctx, h.Engine(), other, build.Options{Keychain: registry.Static(nil)})
		refused(t, err, registry.SourceAnonymous, "without credentials")
		res, err := build.Build(ctx, h.Engine(), other, build.Options{Keychain: kc})
		require.NoError(t, err, "with credentials the image is pulled")
		forget(res.ImageID)
	})

	res, err := build.Build(ctx, h.Engine(), bc, build.Options{Keychain: kc})
	require.NoError(t, err)
	forget(res.ImageID)
	assert.Equal(t, e.Backend, res.Backend)
	// The harness's Auth gives the build its credentials as well.
	id, err := h.BuildFiles(map[string][]byte{"Dockerfile": []byte(df + "RUN echo auth > /auth\n")}).
		Auth(host, registry.AuthConfig{Username: "berth", Password: "s3cr3t-registry-pw"}).ImageE(ctx)
	require.NoError(t, err)
	forget(id)
}

// NoCacheRebuild builds one Dockerfile again and again with NoCache. Each
// build moves the berth-cache tag to its new image; the image that lost
// it is removed when nothing else holds it, and kept while another tag or
// a container does.
func NoCacheRebuild(t *testing.T, e Expect) {
	forget := testenv.RemoveImages(t)
	h := berth.New(t)
	ctx := t.Context()
	c := testenv.Wire(h.Engine())
	files := map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN echo " + testenv.Unique(t) + " > /id\n")}
	rebuild := func() build.Result {
		t.Helper()
		res, err := build.Build(ctx, testenv.Public(c), build.FilesContext(files), build.Options{NoCache: true})
		require.NoError(t, err)
		forget(res.ImageID)
		assert.Equal(t, e.Backend, res.Backend)
		assert.False(t, res.Cached)
		return res
	}
	gone := func(id, why string) {
		t.Helper()
		_, err := c.ImageInspect(ctx, id)
		assert.ErrorIs(t, err, wire.ErrNotFound, why)
	}
	kept := func(id, why string) {
		t.Helper()
		_, err := c.ImageInspect(ctx, id)
		assert.NoError(t, err, why)
	}

	first := rebuild()
	second := rebuild()
	require.Equal(t, first.Ref, second.Ref, "one input, one berth-cache tag")
	require.NotEqual(t, first.ImageID, second.ImageID, "NoCache built a new image")
	gone(first.ImageID, "the image that lost the berth-cache tag is removed")
	ins, err := c.ImageInspect(ctx, second.Ref)
	require.NoError(t, err)
	assert.Equal(t, second.ImageID, ins.ID)

	// Another tag holds an image; so does a container.
	tag := "berth-test/nocache:" + strings.ToLower(testenv.Unique(t))
	require.NoError(t, h.Tag(ctx, second.ImageID, tag))
	third := rebuild()
	kept(second.ImageID, "the image is still tagged "+tag)
	h.Container(third.ImageID).Cmd("true").WaitFor(wait.ForExit()).Start()
	fourth := rebuild()
	kept(third.ImageID, "a container uses the image")
	ins, err = c.ImageInspect(ctx, fourth.Ref)
	require.NoError(t, err)
	assert.Equal(t, fourth.ImageID, ins.ID)

	dangling, err := c.ImageList(ctx, wire.Filters{"dangling": {"true"}, "label": {engine.LabelBuild, engine.LabelCache + "=" + first.Hash}})
	require.NoError(t, err)
	for _, im := range dangling {
		assert.Equal(t, third.ImageID, im.ID, "only the image the container uses is left untagged")
	}
}
