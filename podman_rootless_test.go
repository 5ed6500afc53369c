//go:build linux && !mutation

package berth_test

import (
	"io"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/wait"
)

// A non-root user's `podman system service` (scripts/podman-rootless.sh,
// run by make test-podman and .ci/run) is found by the socket search as
// "rootless Podman" when nothing names an engine, and berth runs a
// container on it. BERTH_ROOTLESS_PODMAN is that user's name.
func TestRootlessPodmanFoundBySearch(t *testing.T) {
	name := os.Getenv("BERTH_ROOTLESS_PODMAN")
	if name == "" {
		t.Skip("BERTH_ROOTLESS_PODMAN names a user whose podman service runs: bash scripts/podman-rootless.sh (make test-podman does)")
	}
	u, err := user.Lookup(name)
	require.NoError(t, err)
	uid, err := strconv.Atoi(u.Uid)
	require.NoError(t, err)
	require.NotZero(t, uid, "rootless means not root")
	run := filepath.Join("/run/user", u.Uid)
	sock := filepath.Join(run, "podman", "podman.sock")

	// Nothing names an engine; the machine's own sockets (dockerd at
	// /var/run/docker.sock, a rootful Podman) are hidden from the search,
	// and the user's runtime directory is the one searched.
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("DOCKER_CONTEXT", "")
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_RUNTIME_DIR", run)
	t.Cleanup(wire.SetSearchRoot(t.TempDir()))

	ep, err := wire.EndpointFromEnv()
	require.NoError(t, err)
	require.Equal(t, "unix://"+sock, ep.Host)
	assert.Equal(t, "found: "+sock+" (rootless Podman)", ep.From)

	// The socket is the user's: the service runs as that user.
	fi, err := os.Stat(sock)
	require.NoError(t, err)
	assert.Equal(t, uint32(uid), fi.Sys().(*syscall.Stat_t).Uid, "socket owner")

	ctx := t.Context()
	s, err := berth.NewSession(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(t.Context()) })
	assert.Equal(t, ep.From, s.Engine().HostFrom())
	c, err := s.Container(busybox).
		Cmd("sh", "-c", "mkdir -p /www && echo rootless > /www/index.html && exec httpd -f -p 8080 -h /www").
		Port("8080/tcp").
		WaitFor(wait.ForHTTP("/index.html").Port("8080/tcp")).
		StartE(ctx)
	require.NoError(t, err)
	url := c.Endpoint(ctx, "8080/tcp")
	resp, err := http.Get(url + "/index.html")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, "rootless\n", string(body))

	// The container's root is the user on the host: its main process runs
	// under the user's uid, not root's.
	d, err := c.Inspect(ctx)
	require.NoError(t, err)
	require.NotZero(t, d.Pid)
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(d.Pid), "status"))
	require.NoError(t, err)
	var uidLine string
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "Uid:") {
			uidLine = l
		}
	}
	assert.Equal(t, strconv.Itoa(uid), strings.Fields(uidLine)[1], "host uid of the container's root process: %s", uidLine)
	require.NoError(t, s.Close(ctx))
}
