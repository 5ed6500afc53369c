package buildkit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/build"
	"github.com/berth-go/berth/build/buildkit"
	"github.com/berth-go/berth/internal/tests/buildtest"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/registry"
)

func TestMain(m *testing.M) {
	if c, err := wire.New(); err == nil && c.IsPodman(context.Background()) {
		// Not a skip on dockerd: TestEngineOffersBuildKit fails there when
		// BuildKit does not answer.
		fmt.Println("build/buildkit: Podman offers no BuildKit (/grpc and /session answer 404); builds use the classic builder there, tested in ./build")
		os.Exit(0)
	}
	berth.Main(m)
}

func TestEngineOffersBuildKit(t *testing.T) {
	c, err := wire.New()
	require.NoError(t, err)
	assert.Equal(t, "buildkit", build.Select(t.Context(), testenv.Public(c)).Name(), "the test engine has BuildKit and this binary imports it")
	t.Setenv("BERTH_BUILDER", "classic")
	assert.Equal(t, "classic", build.Select(t.Context(), testenv.Public(c)).Name(), "BERTH_BUILDER=classic forces the classic builder")
}

// TestSecretNotInImage mounts a secret in a RUN step and checks the image
// holds no trace of it, nor does the build log.
func TestSecretNotInImage(t *testing.T) {
	h, forget := buildtest.ParallelHarness(t)
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
    wc -c /run/secrets/token > /proof && echo ` + testenv.Unique(t) + `
`)}).Secret("token", f).SecretEnv("envtoken", "BERTH_TEST_BUILD_SECRET").Output(&log).Image()
	forget(img)
	assert.Equal(t, "18 /run/secrets/token\n", buildtest.Output(t, h, img, "cat", "/proof"))

	c := h.Container(img).Cmd("sleep", "60").Start()
	var fsTar bytes.Buffer
	require.NoError(t, c.Export(t.Context(), &fsTar))
	for name, e := range testenv.ReadTar(t, &fsTar) {
		assert.NotContains(t, string(e.Content), "s3cr3t", "file %s holds the secret", name)
	}
	hist, err := testenv.Wire(h.Engine()).ImageInspect(t.Context(), img)
	require.NoError(t, err)
	assert.NotContains(t, fmt.Sprint(hist), "s3cr3t")
	assert.NotContains(t, log.String(), "s3cr3t")
}

func TestSSHMount(t *testing.T) {
	h, forget := buildtest.ParallelHarness(t)
	key := filepath.Join(t.TempDir(), "id_ed25519")
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput()
	require.NoError(t, err, "%s", out)
	df := []byte("FROM busybox:1.36\nRUN --mount=type=ssh,id=deploy test -S \"$SSH_AUTH_SOCK\" && echo $SSH_AUTH_SOCK > /sock && echo " + testenv.Unique(t) + "\n")
	img := h.BuildFiles(map[string][]byte{"Dockerfile": df}).SSH("deploy", key).Image()
	forget(img)
	assert.Contains(t, buildtest.Output(t, h, img, "cat", "/sock"), "/run/buildkit/ssh_agent.")

	// An agent socket works as well.
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	require.NoError(t, agent.Start())
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	// The socket file exists from bind, a moment before the agent listens.
	require.Eventually(t, func() bool {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond)
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
	h, forget := buildtest.ParallelHarness(t)
	id := strings.ReplaceAll(testenv.Unique(t), "/", "-")
	df := "FROM busybox:1.36\nARG N\nRUN --mount=type=cache,id=" + id + ",target=/cache echo run-$N >> /cache/runs && cp /cache/runs /runs\n"
	first := h.BuildFiles(map[string][]byte{"Dockerfile": []byte(df)}).Arg("N", "1").Image()
	forget(first)
	second := h.BuildFiles(map[string][]byte{"Dockerfile": []byte(df)}).Arg("N", "2").Image()
	forget(second)
	assert.Equal(t, "run-1\nrun-2\n", buildtest.Output(t, h, second, "cat", "/runs"), "the second build saw the first one's cache")
}

// TestBuildScenarios expects what BuildKit's builds look like.
func TestBuildScenarios(t *testing.T) {
	buildtest.Scenarios(t, buildtest.Expect{Backend: "buildkit", TargetStep: "[test 1/1] RUN echo test-stage > /stage",
		FailedRUN: []string{"exit code: 7", "at [2/2] RUN echo about to fail"}})
}

func TestInMemoryContext(t *testing.T) {
	h, forget := buildtest.ParallelHarness(t)
	files := map[string][]byte{
		"Dockerfile": []byte("FROM busybox:1.36\nCOPY . /ctx\nRUN test -f /ctx/bin/run.sh\n"),
		"bin/run.sh": []byte("#!/bin/sh\necho " + testenv.Unique(t) + "\n"),
	}
	img := h.BuildFiles(files).Image()
	forget(img)
	assert.Contains(t, buildtest.Output(t, h, img, "cat", "/ctx/bin/run.sh"), "TestInMemoryContext")
}

// TestPull: a newer base on the registry, the old one in the engine; Pull
// builds on the newer one, without it the engine's copy is used.
func TestPull(t *testing.T) {
	h, forget := buildtest.ParallelHarness(t)
	ctx := t.Context()
	base, kc := buildtest.PrivateRegistry(t, h)
	v2 := h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN echo v2 > /marker\n")}).Image()
	forget(v2)
	i := strings.LastIndex(base, ":")
	require.NoError(t, testenv.Wire(h.Engine()).ImageTag(ctx, v2, base[:i], base[i+1:]))
	require.NoError(t, registry.Push(ctx, h.Engine(), kc, base, nil))
	require.NoError(t, h.Tag(ctx, "busybox:1.36", base))
	pulled := build.FilesContext(map[string][]byte{"Dockerfile": []byte("FROM " + base + "\nRUN cat /marker > /seen && echo " + testenv.Unique(t) + "\n")})
	_, err := build.Build(ctx, h.Engine(), pulled, build.Options{Keychain: kc})
	require.Error(t, err, "the engine's copy of the base has no /marker")
	res, err := build.Build(ctx, h.Engine(), pulled, build.Options{Keychain: kc, Pull: true})
	require.NoError(t, err)
	forget(res.ImageID)
	assert.Equal(t, "v2\n", buildtest.Output(t, h, res.ImageID, "cat", "/seen"))
}

// TestFailedCopyCancelsRunningStep: the COPY of a missing file fails
// computing its cache key while the RUN before it still runs. BuildKit's
// status stream then calls the RUN cached; the log says it was cancelled,
// prints its output, and the error names the COPY.
func TestFailedCopyCancelsRunningStep(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	const (
		runStep  = "[2/3] RUN echo building && false"
		copyStep = "[3/3] COPY does-not-exist.txt /x"
	)
	dir := testenv.Tree(t, map[string]string{"Dockerfile": "FROM busybox:1.36\nRUN echo building && false\nCOPY does-not-exist.txt /x\n"})
	var log bytes.Buffer
	_, err := h.Build(dir).NoCache().Output(&log).ImageE(t.Context())
	require.Error(t, err)
	t.Logf("build log:\n%s", log.String())
	var be *build.Error
	require.ErrorAs(t, err, &be)
	assert.Equal(t, copyStep, be.Step)
	assert.Contains(t, err.Error(), "at "+copyStep+": ")
	assert.Contains(t, be.Err.Error(), "does-not-exist.txt")

	number := func(step string) string {
		m := regexp.MustCompile(`(?m)^(#\d+) ` + regexp.QuoteMeta(step) + `$`).FindStringSubmatch(log.String())
		if m == nil {
			return ""
		}
		return m[1]
	}
	c := number(copyStep)
	require.NotEmpty(t, c, "the COPY step is in the log")
	assert.Regexp(t, `(?m)^`+c+` ERROR: .*does-not-exist.txt.* not found`, log.String())
	require.GreaterOrEqual(t, len(be.Log), 2)
	assert.Equal(t, c+" "+copyStep, be.Log[len(be.Log)-2], "the error's last lines are the failed step's")
	assert.Contains(t, be.Log[len(be.Log)-1], c+" ERROR: ")

	// The RUN may have been cancelled before it started; then it is not
	// in the log at all.
	if r := number(runStep); r != "" {
		assert.NotRegexp(t, `(?m)^`+r+` CACHED$`, log.String(), "the RUN step ran: it is no cache hit")
		assert.Regexp(t, `(?m)^`+r+` CANCELED$`, log.String())
		assert.NotRegexp(t, `(?m)^`+r+` ERROR`, log.String(), "the RUN step did not fail of its own")
		for _, l := range strings.Split(log.String(), "\n") {
			if strings.HasSuffix(l, " building") {
				assert.Equal(t, r+" building", l, "the RUN step's output carries its number")
			}
		}
	}
}

// What this engine's BuildKit cannot do is ErrUnsupported, saying what
// would work.
func TestUnsupported(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	df := map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\n")}
	for _, tt := range []struct {
		b     *berth.BuildBuilder
		wants []string
	}{
		{h.BuildFiles(df).Network("my-net"), []string{"my-net", "BERTH_BUILDER=classic"}},
		{h.BuildFiles(df).Platform("linux/amd64,linux/arm64"), []string{"one platform at a time"}},
	} {
		_, err := tt.b.ImageE(t.Context())
		require.ErrorIs(t, err, buildkit.ErrUnsupported)
		for _, w := range tt.wants {
			assert.Contains(t, err.Error(), w)
		}
	}
}

func TestParallelBuilds(t *testing.T) {
	h, forget := buildtest.ParallelHarness(t)
	ids := make([]string, 3)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			df := fmt.Sprintf("FROM busybox:1.36\nRUN echo build-%d-%s > /id\n", i, testenv.Unique(t))
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
		assert.Contains(t, buildtest.Output(t, h, id, "cat", "/id"), fmt.Sprintf("build-%d-", i))
	}
}

// TestRunStepSettings: extra hosts, network none and the platform reach
// the RUN steps.
func TestRunStepSettings(t *testing.T) {
	h, forget := buildtest.ParallelHarness(t)
	df := "FROM busybox:1.36\nRUN grep db.internal /etc/hosts > /hosts && df -k /dev/shm | tail -1 | awk '{print $2}' > /shm && (ip -o link 2>/dev/null || cat /proc/net/dev) | grep -c : > /links; echo " + testenv.Unique(t) + "\n"
	arch := buildtest.EngineArch(t, h)
	img := h.BuildFiles(map[string][]byte{"Dockerfile": []byte(df)}).
		ExtraHost("db.internal", "10.1.2.3").Network("none").Platform("linux/" + arch).Image()
	forget(img)
	out := buildtest.Output(t, h, img, "cat", "/hosts", "/links")
	assert.Contains(t, out, "10.1.2.3")
	assert.Contains(t, out, "\n1\n", "network none: only the loopback interface")
	ins, err := testenv.Wire(h.Engine()).ImageInspect(t.Context(), img)
	require.NoError(t, err)
	assert.Equal(t, arch, ins.Architecture)
}

func TestNamedContext(t *testing.T) {
	h, forget := buildtest.ParallelHarness(t)
	nonce := testenv.Unique(t)
	extra := testenv.Tree(t, map[string]string{"shared.txt": nonce})
	// A name of this run's own, so the stand-in images it leaves or not
	// are this test's (another suite on the engine runs this test too).
	name := "shared" + strconv.FormatInt(time.Now().UnixNano(), 36)
	df := "FROM busybox:1.36 AS base\nRUN echo base > /base\nFROM base\nCOPY --from=" + name + " shared.txt /shared.txt\nRUN --mount=from=" + name + ",target=/mnt cp /mnt/shared.txt /mounted.txt\n"
	var log bytes.Buffer
	img := h.BuildFiles(map[string][]byte{"Dockerfile": []byte(df)}).BuildContext(name, extra).Output(&log).Image()
	forget(img)
	assert.Equal(t, "base\n"+nonce+nonce, buildtest.Output(t, h, img, "cat", "/base", "/shared.txt", "/mounted.txt"),
		"COPY --from and RUN --mount=from both see the named context")
	// Engine 20.10 builds a stand-in image for the context; the log shows
	// the name the Dockerfile uses.
	assert.Regexp(t, `(?m)^#\d+ \[stage-1 \d/\d\] COPY --from=`+name+` shared.txt /shared.txt$`, log.String())
	assert.Regexp(t, `(?m)^#\d+ \[stage-1 \d/\d\] RUN --mount=from=`+name+`,target=/mnt cp`, log.String())
	assert.NotContains(t, log.String(), build.CacheRepo)

	// So do the failed step and the error.
	log.Reset()
	_, err := h.BuildFiles(map[string][]byte{"Dockerfile": []byte(df + "COPY --from=" + name + " missing.txt /missing.txt\n")}).BuildContext(name, extra).Output(&log).ImageE(t.Context())
	require.Error(t, err)
	var be *build.Error
	require.ErrorAs(t, err, &be)
	assert.Regexp(t, `^\[stage-1 \d/\d\] COPY --from=`+name+` missing.txt /missing.txt$`, be.Step)
	assert.NotContains(t, err.Error(), build.CacheRepo)
	assert.NotContains(t, log.String(), build.CacheRepo)

	imgs, err := testenv.Wire(h.Engine()).ImageList(t.Context(), wire.Filters{"label": {"berth.context=" + name}})
	require.NoError(t, err)
	assert.Empty(t, imgs, "the stand-in image is removed after the build")

	_, err = h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36 AS " + name + "\n")}).BuildContext(name, extra).ImageE(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stage of that name")
}

// dropBuildCache removes the builder cache records of the steps whose
// description holds nonce (what this test's builds made), so the next
// build of the same files finds no cache in the builder, while every
// other user's cache on the engine stays.
func dropBuildCache(t *testing.T, c *wire.Client, nonce string) {
	t.Helper()
	ctx := t.Context()
	n := 0
	for _, r := range buildRecords(t, c) {
		if strings.Contains(r.Description, nonce) {
			require.NoError(t, c.BuildCachePrune(ctx, true, wire.Filters{"id": {r.ID}}))
			n++
		}
	}
	require.NotZero(t, n, "the builder cache holds a step of this test")
	for _, r := range buildRecords(t, c) {
		require.NotContains(t, r.Description, nonce, "the step's cache record was removed")
	}
}

// buildRecord is a builder cache record as /system/df lists it.
type buildRecord struct{ ID, Parent, Description string }

// buildRecords lists the engine's builder cache records.
func buildRecords(t testing.TB, c *wire.Client) []buildRecord {
	t.Helper()
	var df struct{ BuildCache []buildRecord }
	require.NoError(t, c.DoJSON(context.Background(), wire.Request{Method: http.MethodGet, Path: "/system/df"}, &df))
	return df.BuildCache
}

// TestCacheDirectory exports the build cache to a directory, removes the
// image and this build's records from the builder cache, then builds
// again from the directory: the slow step comes from the cache.
func TestCacheDirectory(t *testing.T) {
	h, forget := buildtest.ParallelHarness(t)
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "cache")
	nonce := testenv.Unique(t)
	files := map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN sleep 1 && echo " + nonce + " > /x\n")}
	var log bytes.Buffer
	first := h.BuildFiles(files).CacheTo(dir).Output(&log).Image()
	assert.FileExists(t, filepath.Join(dir, "berth-cache.tar"))
	assert.FileExists(t, filepath.Join(dir, "berth-cache.json"))
	assert.NotContains(t, log.String(), "CACHED\n#6", "the first build ran its steps")

	require.NoError(t, testenv.Wire(h.Engine()).ImageRemove(ctx, first, true, false))
	dropBuildCache(t, testenv.Wire(h.Engine()), nonce)

	log.Reset()
	second := h.BuildFiles(files).CacheFrom(dir).Output(&log).Image()
	forget(second)
	assert.Regexp(t, `#\d+ \[2/2\] RUN sleep 1.*\n#\d+ CACHED`, log.String(), "the slow step came from the cache directory")
	assert.Contains(t, log.String(), "berth-cache.tar (", "the image was gone, so the cache was loaded from the file")
	assert.Equal(t, nonce+"\n", buildtest.Output(t, h, second, "cat", "/x"))
	// The name the directory's cache image has while it is in the engine
	// (another suite on this engine has its own).
	var index struct{ Ref string }
	raw, err := os.ReadFile(filepath.Join(dir, "berth-cache.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &index))
	require.True(t, strings.HasPrefix(index.Ref, "berth-cache/buildcache:"), index.Ref)
	imgs, err := testenv.Wire(h.Engine()).ImageList(ctx, wire.Filters{"reference": {index.Ref}})
	require.NoError(t, err)
	assert.Empty(t, imgs, "the imported cache image is not left tagged")

	// The usual setup reads and writes the same directory. With only the
	// builder cache dropped, the image that was saved is still in the
	// engine: it is the cache, and nothing is loaded.
	third := h.BuildFiles(files).CacheFrom(dir).CacheTo(dir).Image()
	forget(third)
	dropBuildCache(t, testenv.Wire(h.Engine()), nonce)
	log.Reset()
	saved, err := os.Stat(filepath.Join(dir, "berth-cache.tar"))
	require.NoError(t, err)
	fourth := h.BuildFiles(files).CacheFrom(dir).CacheTo(dir).Output(&log).Image()
	forget(fourth)
	assert.Equal(t, third, fourth, "a rebuild wholly from the cache is the same image")
	again, err := os.Stat(filepath.Join(dir, "berth-cache.tar"))
	require.NoError(t, err)
	assert.Equal(t, saved.ModTime(), again.ModTime(), "the directory already held this image: it is not written again")
	assert.Regexp(t, `#\d+ \[2/2\] RUN sleep 1.*\n#\d+ CACHED`, log.String(), "the slow step came from the cache image")
	assert.Contains(t, log.String(), "its image is still in the engine")
	imgs, err = testenv.Wire(h.Engine()).ImageList(ctx, wire.Filters{"reference": {index.Ref}})
	require.NoError(t, err)
	assert.Empty(t, imgs, "the cache image's tag is removed again")

	// An empty directory is a first build, not an error.
	log.Reset()
	other := map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN echo " + testenv.Unique(t) + " > /x\n")}
	fifth, err := h.BuildFiles(other).CacheFrom(t.TempDir()).Output(&log).ImageE(ctx)
	require.NoError(t, err)
	forget(fifth)
	assert.Contains(t, log.String(), "no build cache in")
}

// TestForeignPlatform builds for a platform the engine does not run
// natively (linux/arm64, or linux/amd64 on an arm64 engine) without QEMU:
// copying files works and the image says that architecture; running its
// binary in a RUN step fails with an error that says what the engine lacks.
func TestForeignPlatform(t *testing.T) {
	h, forget := buildtest.ParallelHarness(t)
	ctx := t.Context()
	arch := buildtest.ForeignArch(t, h)
	src := testenv.Tree(t, map[string]string{"main.go": "package main\n\nfunc main() { println(\"hello from " + arch + "\") }\n", "go.mod": "module hello\n\ngo 1.22\n"})
	gobin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command builds the test's foreign binary")
	cmd := exec.Command(gobin, "build", "-o", "hello", ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	base := "berth-test/" + arch + ":" + strings.ToLower(strings.ReplaceAll(testenv.Unique(t), "/", "-"))
	id := h.Build(src).DockerfileContent("FROM scratch\nCOPY hello /hello\n").Tag(base).Platform("linux/" + arch).Image()
	forget(id)
	ins, err := testenv.Wire(h.Engine()).ImageInspect(ctx, base)
	require.NoError(t, err)
	assert.Equal(t, arch, ins.Architecture)

	qemu := map[string]string{"arm64": "qemu-aarch64", "amd64": "qemu-x86_64"}[arch]
	if _, err := os.Stat("/proc/sys/fs/binfmt_misc/" + qemu); err == nil {
		t.Logf("this engine's host emulates %s: the RUN step below would work", arch)
		return
	}
	_, err = h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM " + base + "\nRUN [\"/hello\"]\n")}).Platform("linux/" + arch).ImageE(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, buildkit.ErrUnsupported)
	assert.Contains(t, err.Error(), "cannot run binaries for linux/"+arch)
	assert.Contains(t, err.Error(), "QEMU")
}

// TestSecretIDsInInputHash: which secrets a build has is part of berth's
// input hash, their values are not. A build that adds or removes a secret
// is not the earlier build's image (the builder's own layer cache may
// still reuse the step, as Docker's does; NoCache runs it); one whose
// secret's value changed is, as documented on Secret.
func TestSecretIDsInInputHash(t *testing.T) {
	h, forget := buildtest.ParallelHarness(t)
	ctx := t.Context()
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first"), filepath.Join(dir, "second")
	require.NoError(t, os.WriteFile(first, []byte("s3cr3t-hash-1"), 0o600))
	require.NoError(t, os.WriteFile(second, []byte("s3cr3t-hash-two"), 0o600))
	files := map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN --mount=type=secret,id=token,required wc -c < /run/secrets/token > /len && echo " + testenv.Unique(t) + "\n")}
	run := func(o build.Options) (build.Result, error) {
		t.Helper()
		res, err := build.Build(ctx, h.Engine(), build.FilesContext(files), o)
		if err == nil {
			forget(res.ImageID)
		}
		return res, err
	}
	token := func(f string) map[string]build.Secret { return map[string]build.Secret{"token": {File: f}} }

	with, err := run(build.Options{Secrets: token(first)})
	require.NoError(t, err)
	assert.Equal(t, "13\n", buildtest.Output(t, h, with.ImageID, "cat", "/len"))

	without, err := run(build.Options{})
	if err == nil {
		assert.False(t, without.Cached, "berth did not reuse the image built with the secret")
		assert.NotEqual(t, with.Hash, without.Hash, "removing a secret changes the input hash")
		t.Log("without the secret, the builder's layer cache reused the step that used it, as Docker's does")
	}
	_, err = run(build.Options{NoCache: true})
	require.Error(t, err, "without the secret and without caches, the step runs and misses it")
	assert.Contains(t, err.Error(), "secret token not found")

	renamed, err := run(build.Options{Secrets: map[string]build.Secret{"other": {File: first}}})
	if err == nil {
		assert.False(t, renamed.Cached, "another secret id is another input")
	}

	again, err := run(build.Options{Secrets: token(second)})
	require.NoError(t, err)
	assert.True(t, again.Cached, "the secret's value is not hashed: same input")
	assert.Equal(t, with.Hash, again.Hash)
	assert.Equal(t, with.ImageID, again.ImageID)
	assert.Equal(t, "13\n", buildtest.Output(t, h, again.ImageID, "cat", "/len"), "the earlier image, built with the earlier value")
}
