package wire

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/internal/tests/netstub"
)

// testSearch is a search whose every place is under dir.
func testSearch(dir string) SocketSearch {
	return SocketSearch{
		Root:        filepath.Join(dir, "r"),
		Home:        filepath.Join(dir, "h"),
		RuntimeDir:  filepath.Join(dir, "x"),
		ColimaHome:  filepath.Join(dir, "c"),
		UID:         1000,
		PingTimeout: 200 * time.Millisecond,
	}
}

// The documented order, as paths relative to the test's directory.
var wantOrder = []struct{ engine, rel string }{
	{"Docker", "r/var/run/docker.sock"},
	{"rootless Docker", "x/docker.sock"},
	{"Docker Desktop", "h/.docker/run/docker.sock"},
	{"Docker Desktop", "h/.docker/desktop/docker.sock"},
	{"Colima", "c/default/docker.sock"},
	{"Colima", "h/.colima/default/docker.sock"},
	{"Colima", "h/.config/colima/default/docker.sock"},
	{"Rancher Desktop", "h/.rd/docker.sock"},
	{"OrbStack", "h/.orbstack/run/docker.sock"},
	{"rootless Podman", "x/podman/podman.sock"},
	{"rootful Podman", "r/run/podman/podman.sock"},
}

func TestSocketSearchPlacesOrder(t *testing.T) {
	dir := "/t"
	var got []string
	for _, p := range testSearch(dir).Places() {
		got = append(got, p.Engine+" "+p.Path)
	}
	var want []string
	for _, w := range wantOrder {
		want = append(want, w.engine+" "+filepath.Join(dir, filepath.FromSlash(w.rel)))
	}
	assert.Equal(t, want, got)

	t.Run("runtime dir unset means /run/user/UID", func(t *testing.T) {
		s := SocketSearch{UID: 1500}
		places := s.Places()
		assert.Equal(t, []SocketPlace{
			{"Docker", "/var/run/docker.sock"},
			{"rootless Docker", "/run/user/1500/docker.sock"},
			{"rootless Podman", "/run/user/1500/podman/podman.sock"},
			{"rootful Podman", "/run/podman/podman.sock"},
		}, places, "no home: no places under it")
	})
	t.Run("XDG_CONFIG_HOME", func(t *testing.T) {
		s := SocketSearch{Home: "/home/u", ConfigDir: "/cfg"}
		var paths []string
		for _, p := range s.Places() {
			paths = append(paths, p.Path)
		}
		assert.Contains(t, paths, "/cfg/colima/default/docker.sock")
		assert.NotContains(t, paths, "/home/u/.config/colima/default/docker.sock")
	})
	t.Run("relative XDG dirs are ignored", func(t *testing.T) {
		s := SocketSearch{Home: "/home/u", RuntimeDir: "run", ConfigDir: "cfg", ColimaHome: "col", UID: 7}
		var paths []string
		for _, p := range s.Places() {
			paths = append(paths, p.Path)
		}
		assert.Contains(t, paths, "/run/user/7/docker.sock")
		assert.Contains(t, paths, "/home/u/.config/colima/default/docker.sock")
		for _, p := range paths {
			assert.True(t, filepath.IsAbs(p), p)
		}
	})
}

func TestSocketSearchFindsEachPlace(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a listener per place")
	}
	for i, w := range wantOrder {
		t.Run(w.engine+" "+w.rel, func(t *testing.T) {
			dir := netstub.ShortTempDir(t)
			s := testSearch(dir)
			// This place answers, and so does every later one: the
			// first must win.
			for _, later := range wantOrder[i:] {
				netstub.PingingSocket(t, filepath.Join(dir, later.rel), "Fake/"+later.rel)
			}
			ep := s.Endpoint()
			path := filepath.Join(dir, filepath.FromSlash(w.rel))
			assert.Equal(t, "unix://"+path, ep.Host)
			assert.Equal(t, FoundPrefix+s.Tilde(path)+" ("+w.engine+")", ep.From)
			assert.Empty(t, ep.Searched)
			res := s.Search(context.Background())
			require.Len(t, res, i+1, "the search stops at the first answer")
			assert.Equal(t, "answers /_ping (Server: Fake/"+w.rel+")", res[i].State)
			for _, r := range res[:i] {
				assert.Equal(t, "no such file", r.State, r.Path)
			}
		})
	}
}

func TestSocketSearchPassesOverSocketsThatDoNotAnswer(t *testing.T) {
	dir := netstub.ShortTempDir(t)
	s := testSearch(dir)
	netstub.SilentSocket(t, filepath.Join(dir, "r/var/run/docker.sock"))
	netstub.StaleSocket(t, filepath.Join(dir, "h/.docker/run/docker.sock"))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "h/.colima/default"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "h/.colima/default/docker.sock"), nil, 0o600))
	netstub.PingingSocket(t, filepath.Join(dir, "x/podman/podman.sock"), "Libpod/4.3.1")

	start := time.Now()
	ep := s.Endpoint()
	took := time.Since(start)
	assert.Equal(t, "unix://"+filepath.Join(dir, "x/podman/podman.sock"), ep.Host)
	assert.Equal(t, "found: "+filepath.Join(dir, "x/podman/podman.sock")+" (rootless Podman)", ep.From)
	assert.Less(t, took, 2*time.Second, "one ping timeout (200ms) for the silent socket, no more")

	res := s.Search(context.Background())
	states := map[string]string{}
	for _, r := range res {
		states[s.Tilde(r.Path)] = r.State
	}
	assert.Equal(t, "no answer to /_ping: none within 200ms", states[filepath.Join(dir, "r/var/run/docker.sock")])
	assert.Contains(t, states["~/.docker/run/docker.sock"], "no answer to /_ping: dial unix")
	assert.Contains(t, states["~/.docker/run/docker.sock"], "connection refused")
	assert.Equal(t, "not a socket (-rw-------)", states["~/.colima/default/docker.sock"])
	assert.Equal(t, "no such file", states["~/.rd/docker.sock"])
	assert.True(t, res[len(res)-1].Answered)
}

func TestSocketSearchRejectsWhatIsNotAnEngine(t *testing.T) {
	dir := netstub.ShortTempDir(t)
	s := testSearch(dir)
	path := filepath.Join(dir, "r/var/run/docker.sock")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	l, err := net.Listen("unix", path)
	require.NoError(t, err)
	srv := &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })

	r := s.Look(context.Background(), SocketPlace{"Docker", path})
	assert.False(t, r.Answered)
	assert.Equal(t, "no answer to /_ping: answered 404 Not Found", r.State)
}

// EndpointFromEnv searches when nothing names an engine, with the places
// made of HOME and XDG_RUNTIME_DIR.
func TestEndpointFromEnvSearches(t *testing.T) {
	dir := netstub.SearchEnv(t)
	t.Cleanup(SetSearchRoot(filepath.Join(dir, "r")))

	t.Run("Docker Desktop before rootless Podman", func(t *testing.T) {
		netstub.PingingSocket(t, filepath.Join(dir, "h/.docker/run/docker.sock"), "Docker/28.0.0 (linux)")
		netstub.PingingSocket(t, filepath.Join(dir, "x/podman/podman.sock"), "Libpod/4.3.1")
		ep, err := EndpointFromEnv()
		require.NoError(t, err)
		assert.Equal(t, "unix://"+filepath.Join(dir, "h/.docker/run/docker.sock"), ep.Host)
		assert.Equal(t, "found: ~/.docker/run/docker.sock (Docker Desktop)", ep.From)
		assert.Equal(t, "unix://"+filepath.Join(dir, "h/.docker/run/docker.sock")+" (found: ~/.docker/run/docker.sock (Docker Desktop))", ep.String())

		c, err := New()
		require.NoError(t, err)
		defer c.Close()
		assert.Equal(t, ep.From, c.Endpoint().From)
	})
	t.Run("nothing answers", func(t *testing.T) {
		netstub.StaleSocket(t, filepath.Join(dir, "h/.docker/run/docker.sock"))
		ep, err := EndpointFromEnv()
		require.NoError(t, err)
		assert.Equal(t, DefaultHost, ep.Host)
		assert.Equal(t, "default", ep.From)
		assert.Len(t, ep.Searched, len(wantOrder)-1, "every place but COLIMA_HOME's")
		assert.Equal(t, filepath.Join(dir, "r/var/run/docker.sock")+": no such file", ep.Searched[0])
		assert.Contains(t, ep.Searched, "~/.docker/run/docker.sock: no answer to /_ping: dial unix "+filepath.Join(dir, "h/.docker/run/docker.sock")+": connect: connection refused")
	})
}

func TestNoEngineFoundErrorSaysWhereAndWhatToDo(t *testing.T) {
	dir := netstub.SearchEnv(t)
	t.Cleanup(SetSearchRoot(filepath.Join(dir, "r")))
	netstub.StaleSocket(t, filepath.Join(dir, "h/.docker/run/docker.sock"))

	c, err := New()
	require.NoError(t, err, "New does not fail for want of an engine; the first call does")
	defer c.Close()
	// The default socket is the machine's: point the client at the
	// test's hidden one, as the search would have.
	c.ep.Host = "unix://" + filepath.Join(dir, "r/var/run/docker.sock")
	require.NoError(t, c.setupTransport())
	_, err = c.Ping(context.Background())
	require.Error(t, err)
	var de *DaemonError
	require.True(t, errors.As(err, &de), "%T", err)
	assert.True(t, errors.Is(err, ErrDaemonUnreachable))
	msg := err.Error()
	for _, want := range []string{
		"(from default)",
		"no engine answered at any of the 10 places searched",
		filepath.Join(dir, "r/var/run/docker.sock") + ": no such file",
		filepath.Join(dir, "x/docker.sock") + ": no such file",
		"~/.docker/run/docker.sock: no answer to /_ping: dial unix",
		"~/.colima/default/docker.sock: no such file",
		"~/.orbstack/run/docker.sock: no such file",
		filepath.Join(dir, "x/podman/podman.sock") + ": no such file",
		filepath.Join(dir, "r/run/podman/podman.sock") + ": no such file",
		"start the engine",
		"DOCKER_HOST",
		"podman.socket",
	} {
		assert.Contains(t, msg, want)
	}
	assert.Less(t, strings.Index(msg, "r/var/run/docker.sock:"), strings.Index(msg, "r/run/podman/podman.sock:"), "in search order")
}

// A socket that hangs up without an answer says so, rather than that it
// ran out of time.
func TestSocketSearchSaysWhyASocketDidNotAnswer(t *testing.T) {
	dir := netstub.ShortTempDir(t)
	path := filepath.Join(dir, "hangup.sock")
	l, err := net.Listen("unix", path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	r := testSearch(dir).Look(context.Background(), SocketPlace{"Docker", path})
	assert.False(t, r.Answered)
	assert.Contains(t, r.State, "no answer to /_ping: ")
	assert.NotContains(t, r.State, "none within", "the socket hung up at once")
}

// A found socket's path becomes a host that parses back to the path.
func TestUnixHostOfOddPaths(t *testing.T) {
	for _, path := range []string{"/var/run/docker.sock", "/tmp/a%b/docker.sock", "/tmp/a?b/docker.sock", "/tmp/a#b/docker.sock", "/tmp/a b/docker.sock"} {
		h := unixHost(path)
		u, err := url.Parse(h)
		require.NoError(t, err, h)
		assert.Equal(t, "unix", u.Scheme)
		assert.Equal(t, path, u.Path, h)
	}
	assert.Equal(t, "unix:///var/run/docker.sock", unixHost("/var/run/docker.sock"), "plain paths stay as they are")
	assert.Equal(t, "unix:///tmp/a%25b/docker.sock", unixHost("/tmp/a%b/docker.sock"))
}
