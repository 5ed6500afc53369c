package berth_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/wait"
)

// execOut runs a shell script in c and returns its trimmed stdout.
func execOut(t *testing.T, c *berth.Container, script string) string {
	t.Helper()
	res, err := c.Exec(t.Context(), []string{"sh", "-c", script})
	require.NoError(t, err)
	return strings.TrimSpace(string(res.Stdout))
}

// User, Entrypoint and File reach the container: the process runs as the
// user, the entrypoint is what runs (with Cmd as its arguments), and the
// host file is inside with its content and mode.
func TestUserEntrypointAndFile(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	host := filepath.Join(t.TempDir(), "conf.txt")
	require.NoError(t, os.WriteFile(host, []byte("from the host\n"), 0o640))
	c := h.Container(busybox).
		User("1234:2345").
		Entrypoint("sh", "-c", `echo "entry $0 $1"; exec sleep 3600`).
		Cmd("first", "second").
		File(host, "/etc/berth/conf.txt").
		WaitFor(wait.ForLog("entry first second")).
		Start()

	// PID 1 is the entrypoint, run as the user; an exec inherits the user.
	assert.Equal(t, "1234 2345", execOut(t, c, "awk '/^Uid:/{u=$2} /^Gid:/{g=$2} END{print u, g}' /proc/1/status"))
	assert.Equal(t, "1234 2345", execOut(t, c, "echo $(id -u) $(id -g)"))
	out, err := c.LogsSnapshot(ctx)
	require.NoError(t, err)
	assert.Equal(t, "entry first second\n", string(out.Stdout), "Cmd is the entrypoint's arguments")

	data, err := c.ReadFile(ctx, "/etc/berth/conf.txt")
	require.NoError(t, err)
	assert.Equal(t, "from the host\n", string(data))
	assert.Equal(t, "640", execOut(t, c, "stat -c %a /etc/berth/conf.txt"), "the host file keeps its mode")
}

// capEff reads the effective capability set of the container's PID 1.
func capEff(t *testing.T, c *berth.Container) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(execOut(t, c, "awk '/^CapEff:/{print $2}' /proc/1/status"), 16, 64)
	require.NoError(t, err)
	return v
}

// CapAdd grants a capability the engine's default set lacks.
func TestCapAdd(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	const netAdmin = 1 << 12
	plain := h.Container(busybox).Cmd("sleep", "3600").Start()
	withCap := h.Container(busybox).Cmd("sleep", "3600").CapAdd("NET_ADMIN").Start()
	base := capEff(t, plain)
	require.Zero(t, base&netAdmin, "the default set has no NET_ADMIN, or this test proves nothing")
	assert.Equal(t, base|netAdmin, capEff(t, withCap), "CapAdd adds NET_ADMIN and nothing else")
	addLink := "ip addr add 10.255.0.1/32 dev lo 2>&1 && echo added"
	assert.Contains(t, execOut(t, withCap, addLink), "added", "NET_ADMIN is usable")
	assert.NotContains(t, execOut(t, plain, addLink), "added")
}

// Privileged grants every capability and the host's devices. An engine
// that runs without every capability itself (a container-in-container
// sandbox such as this project's CI) cannot start a privileged container:
// runc then refuses to apply the full set, which still shows that the
// request asked for it: an unprivileged container starts there.
func TestPrivileged(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	const sysAdmin = 1 << 21
	plain := h.Container(busybox).Cmd("sleep", "3600").Start()
	base := capEff(t, plain)
	require.Zero(t, base&sysAdmin, "the default set has no SYS_ADMIN, or this test proves nothing")

	priv, err := h.Container(busybox).Cmd("sleep", "3600").Privileged().StartE(t.Context())
	if err != nil {
		require.ErrorContains(t, err, "apply caps", "only the engine's own lack of capabilities may stop a privileged start")
		t.Logf("this engine cannot grant every capability; the privileged start failed as it must: %v", err)
		return
	}
	all := capEff(t, priv)
	assert.NotZero(t, all&sysAdmin, "a privileged container has SYS_ADMIN")
	assert.Equal(t, all|base, all, "a privileged container has every default capability")
	devs := func(c *berth.Container) int {
		n, err := strconv.Atoi(execOut(t, c, "ls /dev | wc -l"))
		require.NoError(t, err)
		return n
	}
	assert.Greater(t, devs(priv), devs(plain), "a privileged container sees the host's devices")
}

// AutoRemove: the engine removes the container once it exits, and the
// test's cleanup does not trip over the missing container.
func TestAutoRemove(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := h.Container(busybox).Cmd("sh", "-c", "sleep 0.3").AutoRemove().Start()
	require.Eventually(t, func() bool {
		_, err := c.Inspect(ctx)
		return errors.Is(err, engine.ErrNotFound)
	}, 20*time.Second, 50*time.Millisecond, "the engine removed the exited container")
}

// BERTH_HOST names where mapped ports are reachable: Endpoint and HostPort
// use it instead of the engine's address.
func TestBerthHostInEndpoint(t *testing.T) {
	// 127.0.0.2 is loopback too, so the port is reachable there, but it is
	// not what berth would pick by itself (127.0.0.1).
	t.Setenv("BERTH_HOST", "127.0.0.2")
	h := berth.New(t)
	ctx := t.Context()
	c := h.Container(busybox).Cmd("httpd", "-f", "-p", "8080", "-h", "/etc").
		Port("8080/tcp").WaitFor(wait.ForListeningPort("8080/tcp")).Start()
	port, err := c.MappedPort(ctx, "8080/tcp")
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("http://127.0.0.2:%d", port), c.Endpoint(ctx, "8080/tcp"))
	assert.Equal(t, fmt.Sprintf("127.0.0.2:%d", port), c.HostPort(ctx, "8080/tcp"))
	resp, err := http.Get(c.Endpoint(ctx, "8080/tcp") + "/hostname")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// ExtraHost with host-gateway: the name resolves to the container's
// gateway, where a server of the test answers.
func TestExtraHostGateway(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello from the test")
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port

	c := h.Container(busybox).Cmd("sleep", "3600").ExtraHost("berth-gw.test", "host-gateway").Start()
	gw := execOut(t, c, "ip route | awk '/^default/{print $3}'")
	require.NotEmpty(t, gw, "the container has a default route")
	assert.Equal(t, gw, execOut(t, c, "awk '$2 == \"berth-gw.test\" {print $1}' /etc/hosts"), "the name resolves to the gateway")
	assert.Equal(t, "hello from the test",
		execOut(t, c, fmt.Sprintf("wget -T 10 -q -O - http://berth-gw.test:%d/ 2>&1", port)), "a server of the test answers on the gateway")
}

// PullAlways pulls before every create: an image changed in the registry
// replaces the stale local copy.
func TestPullAlwaysGetsTheNewImage(t *testing.T) {
	t.Parallel()
	forget := testenv.RemoveImages(t)
	h := berth.New(t)
	ctx := t.Context()
	reg := h.Container("registry:2.8").Port("5000/tcp").
		WaitFor(wait.ForHTTP("/v2/").Port("5000/tcp").Status(200)).Start()
	port, err := reg.MappedPort(ctx, "5000/tcp")
	require.NoError(t, err)
	ref := fmt.Sprintf("localhost:%d/berth/pull-always:1", port)

	build := func(version string) string {
		return h.BuildFiles(map[string][]byte{
			"Dockerfile": []byte("FROM busybox:1.36\nARG V\nRUN echo $V > /version\nLABEL berth-test=pull-always\n"),
			"nonce":      []byte(testenv.Unique(t)),
		}).Arg("V", version).Image()
	}
	v1, v2 := build("one"), build("two")
	forget(v1)
	forget(v2)

	// The registry gets v2; the engine keeps v1 under the same name.
	require.NoError(t, h.Tag(ctx, v2, ref))
	require.NoError(t, h.Session().Push(ctx, ref, nil))
	require.NoError(t, h.Tag(ctx, v1, ref))

	version := func(p container.PullPolicy) string {
		c := h.Container(ref).Pull(p).Cmd("cat", "/version").WaitFor(wait.ForExit()).Start()
		out, err := c.LogsSnapshot(ctx)
		require.NoError(t, err)
		return strings.TrimSpace(string(out.Stdout))
	}
	assert.Equal(t, "one", version(container.PullMissing), "the default runs the local copy")
	assert.Equal(t, "two", version(container.PullAlways), "PullAlways fetched the registry's image")
}

// Keep leaves a build's tags after the test; without it they go.
func TestBuildKeepLeavesTheTag(t *testing.T) {
	t.Parallel()
	forget := testenv.RemoveImages(t)
	cli := testenv.Client(t)
	files := map[string][]byte{
		"Dockerfile": []byte("FROM busybox:1.36\nCOPY nonce /nonce\n"),
		"nonce":      []byte(testenv.Unique(t)),
	}
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	kept, dropped := "berth-test/keep:"+suffix, "berth-test/no-keep:"+suffix
	var id string
	t.Run("build", func(t *testing.T) {
		h := berth.New(t)
		id = h.BuildFiles(files).Tag(kept).Keep().Image()
		require.Equal(t, id, h.BuildFiles(files).Tag(dropped).Image(), "the same build")
	})
	if id != "" {
		forget(id) // the test removes what Keep kept
	}
	img, err := cli.Image(t.Context(), kept)
	require.NoError(t, err, "the kept tag outlives the test that built it")
	assert.Equal(t, id, img.ID)
	_, err = cli.Image(t.Context(), dropped)
	assert.ErrorIs(t, err, engine.ErrNotFound, "a tag without Keep goes with its test")
}
