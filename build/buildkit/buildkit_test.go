package buildkit_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/build"
	"github.com/berth-go/berth/build/buildkit"
	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/registry"
	"github.com/berth-go/berth/wait"
)

func TestMain(m *testing.M) { berth.Main(m) }

// unique makes a build input differ per run, so no cache hides the build
// under test.
func unique(t testing.TB) string { return fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano()) }

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

// removeBuilt removes the images a test built once the harness removed
// their containers (call before berth.New).
func removeBuilt(t *testing.T) func(id string) {
	var mu sync.Mutex
	var ids []string
	t.Cleanup(func() {
		c, err := wire.New()
		require.NoError(t, err)
		for _, id := range ids {
			c.ImageRemove(context.Background(), id, true, false)
		}
	})
	return func(id string) { mu.Lock(); ids = append(ids, id); mu.Unlock() }
}

// output runs img with cmd and returns what it printed.
func output(t *testing.T, h *berth.Harness, img string, cmd ...string) string {
	t.Helper()
	c := h.Container(img).Cmd(cmd...).WaitFor(wait.ForExit()).Start()
	out, err := c.LogsSnapshot(t.Context())
	require.NoError(t, err)
	return string(out.Stdout) + string(out.Stderr)
}

func TestEngineOffersBuildKit(t *testing.T) {
	c, err := wire.New()
	require.NoError(t, err)
	assert.Equal(t, "buildkit", build.Select(t.Context(), c).Name(), "the test engine has BuildKit and this binary imports it")
	t.Setenv("BERTH_BUILDER", "classic")
	assert.Equal(t, "classic", build.Select(t.Context(), c).Name(), "BERTH_BUILDER=classic forces the classic builder")
}

func TestMultiStageTargetArgsLabels(t *testing.T) {
	t.Parallel()
	forget := removeBuilt(t)
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
	assert.Contains(t, log.String(), "[test 1/1] RUN echo test-stage > /stage", "plain progress names the steps")
	assert.NotContains(t, log.String(), "prod-stage", "stages the target does not need are not built")
	ins, err := h.Engine().ImageInspect(t.Context(), img)
	require.NoError(t, err)
	assert.Equal(t, "berth", ins.Config.Labels["team"])
	assert.Equal(t, "buildkit", ins.Config.Labels[build.LabelBuild])
	assert.Equal(t, "bonjour from base\ntest-stage\n", output(t, h, img, "cat", "/greeting", "/stage"))
}

func TestDockerignoreAndInMemoryContext(t *testing.T) {
	t.Parallel()
	forget := removeBuilt(t)
	h := berth.New(t)
	dir := tree(t, map[string]string{
		"Dockerfile":    "FROM busybox:1.36\nCOPY . /ctx\n",
		".dockerignore": "node_modules\n*.tmp\n!keep.tmp\nDockerfile\n",
		"app.txt":       unique(t),
		"scratch.tmp":   "x",
		"keep.tmp":      "kept",
	})
	big := filepath.Join(dir, "node_modules")
	require.NoError(t, os.MkdirAll(big, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(big, "blob"), bytes.Repeat([]byte("x"), 50<<20), 0o644))
	img := h.Build(dir).Image()
	forget(img)
	assert.Equal(t, "app.txt\nkeep.tmp\n", output(t, h, img, "ls", "/ctx"), "ignored: node_modules, *.tmp but keep.tmp, and the Dockerfile (which still builds)")

	files := map[string][]byte{
		"Dockerfile": []byte("FROM busybox:1.36\nCOPY . /ctx\nRUN test -f /ctx/bin/run.sh\n"),
		"bin/run.sh": []byte("#!/bin/sh\necho " + unique(t) + "\n"),
	}
	img = h.BuildFiles(files).Image()
	forget(img)
	assert.Contains(t, output(t, h, img, "cat", "/ctx/bin/run.sh"), "TestDockerignoreAndInMemoryContext")
}

// TestSecretNotInImage mounts a secret in a RUN step and checks the image
// holds no trace of it, nor does the build log.
func TestSecretNotInImage(t *testing.T) {
	t.Parallel()
	forget := removeBuilt(t)
	h := berth.New(t)
	const secret = "s3cr3t-build-token"
	f := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(f, []byte(secret), 0o600))
	os.Setenv("BERTH_TEST_BUILD_SECRET", secret+"-env") // t.Setenv forbids t.Parallel
	t.Cleanup(func() { os.Unsetenv("BERTH_TEST_BUILD_SECRET") })
	var log bytes.Buffer
	// The Dockerfile compares digests: the secret's text must appear nowhere.
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	img := h.BuildFiles(map[string][]byte{"Dockerfile": []byte(`FROM busybox:1.36
RUN --mount=type=secret,id=token --mount=type=secret,id=envtoken \
    test "$(sha256sum < /run/secrets/token | cut -d' ' -f1)" = "` + sum(secret) + `" && \
    test "$(sha256sum < /run/secrets/envtoken | cut -d' ' -f1)" = "` + sum(secret+"-env") + `" && \
    wc -c /run/secrets/token > /proof && echo ` + unique(t) + `
`)}).Secret("token", f).SecretEnv("envtoken", "BERTH_TEST_BUILD_SECRET").Output(&log).Image()
	forget(img)
	assert.Equal(t, "18 /run/secrets/token\n", output(t, h, img, "cat", "/proof"))

	c := h.Container(img).Cmd("sleep", "60").Start()
	var fsTar bytes.Buffer
	require.NoError(t, c.Export(t.Context(), &fsTar))
	tr := tar.NewReader(&fsTar)
	for {
		hd, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		body, _ := io.ReadAll(tr)
		assert.NotContains(t, string(body), "s3cr3t", "file %s holds the secret", hd.Name)
	}
	hist, err := h.Engine().ImageInspect(t.Context(), img)
	require.NoError(t, err)
	assert.NotContains(t, fmt.Sprint(hist), "s3cr3t")
	assert.NotContains(t, log.String(), "s3cr3t")
}

func TestSSHMount(t *testing.T) {
	t.Parallel()
	forget := removeBuilt(t)
	h := berth.New(t)
	key := filepath.Join(t.TempDir(), "id_ed25519")
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput()
	require.NoError(t, err, "%s", out)
	df := []byte("FROM busybox:1.36\nRUN --mount=type=ssh,id=deploy test -S \"$SSH_AUTH_SOCK\" && echo $SSH_AUTH_SOCK > /sock && echo " + unique(t) + "\n")
	img := h.BuildFiles(map[string][]byte{"Dockerfile": df}).SSH("deploy", key).Image()
	forget(img)
	assert.Contains(t, output(t, h, img, "cat", "/sock"), "/run/buildkit/ssh_agent.")

	// An agent socket works as well.
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	require.NoError(t, agent.Start())
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	require.Eventually(t, func() bool { _, err := os.Stat(sock); return err == nil }, 5*time.Second, 20*time.Millisecond)
	add := exec.Command("ssh-add", key)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	out, err = add.CombinedOutput()
	require.NoError(t, err, "%s", out)
	img = h.BuildFiles(map[string][]byte{"Dockerfile": append(df, []byte("RUN echo agent\n")...)}).SSH("deploy", sock).Image()
	forget(img)

	_, err = h.BuildFiles(map[string][]byte{"Dockerfile": df}).SSH("deploy", "/nope/id_rsa").ImageE(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/nope/id_rsa")
}

func TestCacheMountReusedAcrossBuilds(t *testing.T) {
	t.Parallel()
	forget := removeBuilt(t)
	h := berth.New(t)
	id := strings.ReplaceAll(unique(t), "/", "-")
	df := "FROM busybox:1.36\nARG N\nRUN --mount=type=cache,id=" + id + ",target=/cache echo run-$N >> /cache/runs && cp /cache/runs /runs\n"
	first := h.BuildFiles(map[string][]byte{"Dockerfile": []byte(df)}).Arg("N", "1").Image()
	forget(first)
	second := h.BuildFiles(map[string][]byte{"Dockerfile": []byte(df)}).Arg("N", "2").Image()
	forget(second)
	assert.Equal(t, "run-1\nrun-2\n", output(t, h, second, "cat", "/runs"), "the second build saw the first one's cache")
}

// TestPrivateBaseImage builds FROM an image on a registry that wants
// credentials: BuildKit asks the session, which answers from the keychain.
func TestPrivateBaseImage(t *testing.T) {
	t.Parallel()
	forget := removeBuilt(t)
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
	kc := registry.Static(map[string]registry.AuthConfig{host: {Username: "berth", Password: "s3cr3t-registry-pw", ServerAddress: host}})
	require.NoError(t, h.Tag(ctx, "busybox:1.36", base))
	require.NoError(t, registry.Push(ctx, h.Engine(), kc, base, nil))
	require.NoError(t, h.Engine().ImageRemove(ctx, base, false, false))

	bc := build.FilesContext(map[string][]byte{"Dockerfile": []byte("FROM " + base + "\nRUN echo " + unique(t) + " > /id\n")})
	_, err = build.Build(ctx, h.Engine(), bc, build.Options{Keychain: registry.Static(nil)})
	require.Error(t, err, "without credentials the base image cannot be pulled")
	assert.Contains(t, err.Error(), "401")
	assert.NotContains(t, err.Error(), "s3cr3t")

	res, err := build.Build(ctx, h.Engine(), bc, build.Options{Keychain: kc})
	require.NoError(t, err)
	assert.Equal(t, "buildkit", res.Backend)
	forget(res.ImageID)

	// A newer base on the registry, the old one in the engine: Pull builds
	// on the newer one, without it the engine's copy is used.
	v2 := h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN echo v2 > /marker\n")}).Image()
	forget(v2)
	repo, tag, _ := strings.Cut(strings.TrimPrefix(base, host+"/"), ":")
	require.NoError(t, h.Engine().ImageTag(ctx, v2, host+"/"+repo, tag))
	require.NoError(t, registry.Push(ctx, h.Engine(), kc, base, nil))
	require.NoError(t, h.Tag(ctx, "busybox:1.36", base))
	pulled := build.FilesContext(map[string][]byte{"Dockerfile": []byte("FROM " + base + "\nRUN cat /marker > /seen && echo " + unique(t) + "\n")})
	_, err = build.Build(ctx, h.Engine(), pulled, build.Options{Keychain: kc})
	require.Error(t, err, "the engine's copy of the base has no /marker")
	res, err = build.Build(ctx, h.Engine(), pulled, build.Options{Keychain: kc, Pull: true})
	require.NoError(t, err)
	forget(res.ImageID)
	assert.Equal(t, "v2\n", output(t, h, res.ImageID, "cat", "/seen"))
	h.Engine().ImageRemove(ctx, base, true, false)
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
		}, nil, []string{"at [2/2] RUN echo about to fail", "broken-output", "exit code: 7"}},
		{"syntax error", func() *berth.BuildBuilder {
			return h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUNN echo typo\n")})
		}, nil, []string{"line 2", "runn"}},
		{"unknown target", func() *berth.BuildBuilder {
			return h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36 AS one\n")}).Target("two")
		}, nil, []string{"two"}},
		{"user network", func() *berth.BuildBuilder {
			return h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\n")}).Network("my-net")
		}, buildkit.ErrUnsupported, []string{"my-net", "BERTH_BUILDER=classic"}},
		{"several platforms", func() *berth.BuildBuilder {
			return h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\n")}).Platform("linux/amd64,linux/arm64")
		}, buildkit.ErrUnsupported, []string{"one platform at a time"}},
		{"secret env unset", func() *berth.BuildBuilder {
			return h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\n")}).SecretEnv("x", "BERTH_TEST_SURELY_UNSET")
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
				assert.Equal(t, "buildkit", be.Backend)
			}
		})
	}
}

func TestParallelBuilds(t *testing.T) {
	t.Parallel()
	forget := removeBuilt(t)
	h := berth.New(t)
	ids := make([]string, 3)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			df := fmt.Sprintf("FROM busybox:1.36\nRUN echo build-%d-%s > /id\n", i, unique(t))
			id, err := h.BuildFiles(map[string][]byte{"Dockerfile": []byte(df)}).ImageE(t.Context())
			assert.NoError(t, err)
			ids[i] = id
		}()
	}
	wg.Wait()
	for _, id := range ids {
		forget(id)
	}
	assert.NotEqual(t, ids[0], ids[1])
	assert.NotEqual(t, ids[1], ids[2])
	for i, id := range ids {
		assert.Contains(t, output(t, h, id, "cat", "/id"), fmt.Sprintf("build-%d-", i))
	}
}

// TestRunStepSettings: extra hosts, network none and the platform reach
// the RUN steps.
func TestRunStepSettings(t *testing.T) {
	t.Parallel()
	forget := removeBuilt(t)
	h := berth.New(t)
	df := "FROM busybox:1.36\nRUN grep db.internal /etc/hosts > /hosts && df -k /dev/shm | tail -1 | awk '{print $2}' > /shm && (ip -o link 2>/dev/null || cat /proc/net/dev) | grep -c : > /links; echo " + unique(t) + "\n"
	img := h.BuildFiles(map[string][]byte{"Dockerfile": []byte(df)}).
		ExtraHost("db.internal", "10.1.2.3").Network("none").Platform("linux/amd64").Image()
	forget(img)
	out := output(t, h, img, "cat", "/hosts", "/links")
	assert.Contains(t, out, "10.1.2.3")
	assert.Contains(t, out, "\n1\n", "network none: only the loopback interface")
	ins, err := h.Engine().ImageInspect(t.Context(), img)
	require.NoError(t, err)
	assert.Equal(t, "amd64", ins.Architecture)
}

func TestNamedContext(t *testing.T) {
	t.Parallel()
	forget := removeBuilt(t)
	h := berth.New(t)
	nonce := unique(t)
	extra := tree(t, map[string]string{"shared.txt": nonce})
	df := "FROM busybox:1.36 AS base\nRUN echo base > /base\nFROM base\nCOPY --from=shared shared.txt /shared.txt\nRUN --mount=from=shared,target=/mnt cp /mnt/shared.txt /mounted.txt\n"
	img := h.BuildFiles(map[string][]byte{"Dockerfile": []byte(df)}).BuildContext("shared", extra).Image()
	forget(img)
	assert.Equal(t, "base\n"+nonce+nonce, output(t, h, img, "cat", "/base", "/shared.txt", "/mounted.txt"),
		"COPY --from and RUN --mount=from both see the named context")

	imgs, err := h.Engine().ImageList(t.Context(), wire.Filters{"label": {"berth.context=shared"}})
	require.NoError(t, err)
	for _, im := range imgs {
		assert.Empty(t, im.RepoTags, "the stand-in image is removed after the build")
	}

	_, err = h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36 AS shared\n")}).BuildContext("shared", extra).ImageE(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stage of that name")
}

// TestCacheDirectory exports the build cache to a directory, empties the
// engine's builder cache and removes the image, then builds again from the
// directory: the slow step comes from the cache. Not parallel: it prunes
// the engine's whole builder cache, which the other tests here use.
func TestCacheDirectory(t *testing.T) {
	forget := removeBuilt(t)
	h := berth.New(t)
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "cache")
	nonce := unique(t)
	files := map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN sleep 1 && echo " + nonce + " > /x\n")}
	var log bytes.Buffer
	first := h.BuildFiles(files).CacheTo(dir).Output(&log).Image()
	assert.FileExists(t, filepath.Join(dir, "berth-cache.tar"))
	assert.FileExists(t, filepath.Join(dir, "berth-cache.json"))
	assert.NotContains(t, log.String(), "CACHED\n#6", "the first build ran its steps")

	require.NoError(t, h.Engine().ImageRemove(ctx, first, true, false))
	require.NoError(t, h.Engine().BuildCachePrune(ctx, true, nil))

	log.Reset()
	second := h.BuildFiles(files).CacheFrom(dir).Output(&log).Image()
	forget(second)
	assert.Regexp(t, `#\d+ \[2/2\] RUN sleep 1.*\n#\d+ CACHED`, log.String(), "the slow step came from the cache directory")
	assert.Equal(t, nonce+"\n", output(t, h, second, "cat", "/x"))
	imgs, err := h.Engine().ImageList(ctx, wire.Filters{"reference": {"berth-cache/buildcache"}})
	require.NoError(t, err)
	assert.Empty(t, imgs, "the imported cache image is not left tagged")

	// An empty directory is a first build, not an error.
	log.Reset()
	other := map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN echo " + unique(t) + " > /x\n")}
	third, err := h.BuildFiles(other).CacheFrom(t.TempDir()).Output(&log).ImageE(ctx)
	require.NoError(t, err)
	forget(third)
	assert.Contains(t, log.String(), "no build cache in")
}

// TestForeignPlatform builds for linux/arm64 on an amd64 engine without
// QEMU: copying files works and the image says arm64; running an arm64
// binary in a RUN step fails with an error that says what the engine lacks.
func TestForeignPlatform(t *testing.T) {
	t.Parallel()
	forget := removeBuilt(t)
	h := berth.New(t)
	ctx := t.Context()
	src := tree(t, map[string]string{"main.go": "package main\n\nfunc main() { println(\"hello from arm64\") }\n", "go.mod": "module hello\n\ngo 1.22\n"})
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(gobin, "build", "-o", "hello", ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	base := "berth-test/arm64:" + strings.ToLower(strings.ReplaceAll(unique(t), "/", "-"))
	id := h.Build(src).DockerfileContent("FROM scratch\nCOPY hello /hello\n").Tag(base).Platform("linux/arm64").Image()
	forget(id)
	ins, err := h.Engine().ImageInspect(ctx, base)
	require.NoError(t, err)
	assert.Equal(t, "arm64", ins.Architecture)

	if _, err := os.Stat("/proc/sys/fs/binfmt_misc/qemu-aarch64"); err == nil {
		t.Log("this engine's host emulates arm64: the RUN step below would work")
		return
	}
	_, err = h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM " + base + "\nRUN [\"/hello\"]\n")}).Platform("linux/arm64").ImageE(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, buildkit.ErrUnsupported)
	assert.Contains(t, err.Error(), "cannot run binaries for linux/arm64")
	assert.Contains(t, err.Error(), "QEMU")
}
