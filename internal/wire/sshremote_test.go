//go:build linux && !mutation

// Needs an engine: left out of mutation runs (scripts/mutation.sh).

package wire

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testSSHD is an sshd of the test's own on 127.0.0.1 that lets root in with
// one ed25519 key, the remote end of an ssh:// engine.
type testSSHD struct {
	dir       string
	port      int
	clientKey string // private key sshd accepts
	otherKey  string // private key sshd does not know
	// Keys sshd accepts but runs a fixed command for, as authorized_keys
	// command="..." does: docker not on the PATH, and docker pointed at
	// an engine that is not there.
	noDockerKey, noEngineKey string
	knownHost                string // known_hosts line pinning the host key
	ssh                      string // the real ssh client
}

// host is the DOCKER_HOST value reaching the engine through this sshd.
func (s *testSSHD) host() string { return fmt.Sprintf("ssh://root@127.0.0.1:%d", s.port) }

var aptMu sync.Mutex

// ensureTool returns the path of the program name, installing the Debian
// package pkg with apt-get when it is missing (a fresh CI machine has no
// sshd). The engine script should install these up front.
func ensureTool(tb testing.TB, name, pkg string) string {
	tb.Helper()
	find := func() string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				return filepath.Join(dir, name)
			}
		}
		return ""
	}
	if p := find(); p != "" {
		return p
	}
	aptMu.Lock()
	defer aptMu.Unlock()
	if p := find(); p != "" {
		return p
	}
	tb.Logf("%s missing: apt-get install -y %s", name, pkg)
	install := func() ([]byte, error) {
		cmd := exec.Command("apt-get", "install", "-y", "--no-install-recommends", pkg)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	if out, err := install(); err != nil {
		tb.Logf("apt-get install %s failed (%v), updating the package lists: %s", pkg, err, tailBytes(out, 1024))
		if out, err := exec.Command("apt-get", "update").CombinedOutput(); err != nil {
			tb.Logf("apt-get update: %v: %s", err, tailBytes(out, 1024))
		}
		if out, err := install(); err != nil {
			tb.Logf("apt-get install %s: %v: %s", pkg, err, tailBytes(out, 2048))
		}
	}
	p := find()
	require.NotEmpty(tb, p, "%s is needed by the remote engine tests and could not be installed: apt-get install %s", name, pkg)
	return p
}

func tailBytes(b []byte, max int) string {
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// startSSHD starts sshd on a free port of 127.0.0.1 and stops it at the end
// of the test. setEnv ("K=V") is set in the remote session, so the remote
// `docker system dial-stdio` can be pointed at another engine.
func startSSHD(tb testing.TB, setEnv ...string) *testSSHD {
	tb.Helper()
	requireRoot(tb)
	sshd := ensureTool(tb, "sshd", "openssh-server")
	sshPath, err := exec.LookPath("ssh")
	require.NoError(tb, err, "the OpenSSH client is needed: apt-get install openssh-client")
	keygen, err := exec.LookPath("ssh-keygen")
	require.NoError(tb, err)

	dir, err := os.MkdirTemp("", "berth-sshd-")
	require.NoError(tb, err)
	tb.Cleanup(func() { os.RemoveAll(dir) })
	s := &testSSHD{dir: dir, port: freePort(tb), ssh: sshPath,
		clientKey: filepath.Join(dir, "client_key"), otherKey: filepath.Join(dir, "other_key"),
		noDockerKey: filepath.Join(dir, "no_docker_key"), noEngineKey: filepath.Join(dir, "no_engine_key")}
	hostKey := filepath.Join(dir, "host_key")
	for _, k := range []string{hostKey, s.clientKey, s.otherKey, s.noDockerKey, s.noEngineKey} {
		out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "berth-test", "-f", k).CombinedOutput()
		require.NoError(tb, err, "ssh-keygen: %s", out)
	}
	var authorized strings.Builder
	for key, option := range map[string]string{
		s.clientKey:   "",
		s.noDockerKey: `command="export PATH=/nonexistent; exec docker system dial-stdio" `,
		s.noEngineKey: `command="exec docker -H unix:///nonexistent/docker.sock system dial-stdio" `,
	} {
		pub, err := os.ReadFile(key + ".pub")
		require.NoError(tb, err)
		authorized.WriteString(option + string(pub))
	}
	require.NoError(tb, os.WriteFile(filepath.Join(dir, "authorized_keys"), []byte(authorized.String()), 0o600))
	hostPub, err := os.ReadFile(hostKey + ".pub")
	require.NoError(tb, err)
	fields := strings.Fields(string(hostPub))
	require.GreaterOrEqual(tb, len(fields), 2)
	s.knownHost = fmt.Sprintf("[127.0.0.1]:%d %s %s\n", s.port, fields[0], fields[1])

	cfg := []string{
		"ListenAddress 127.0.0.1",
		"Port " + strconv.Itoa(s.port),
		"HostKey " + hostKey,
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"PermitRootLogin prohibit-password",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		// The key files live under /tmp, which is world-writable.
		"StrictModes no",
		"PidFile none",
		"LogLevel VERBOSE",
	}
	for _, kv := range setEnv {
		cfg = append(cfg, "SetEnv "+kv)
	}
	cfgPath := filepath.Join(dir, "sshd_config")
	require.NoError(tb, os.WriteFile(cfgPath, []byte(strings.Join(cfg, "\n")+"\n"), 0o600))
	// sshd's privilege separation directory, normally made by its service.
	require.NoError(tb, os.MkdirAll("/run/sshd", 0o755))

	logPath := filepath.Join(dir, "sshd.log")
	cmd, exited := startProcess(tb, logPath, sshd, "-D", "-e", "-f", cfgPath)
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("sshd log:\n%s", tailFile(logPath, 4096))
		}
		stopProcess(tb, cmd, exited, 10*time.Second)
	})
	waitListening(tb, fmt.Sprintf("127.0.0.1:%d", s.port), exited, logPath)
	return s
}

// useSSHConfig makes `ssh` on PATH use a config of the test's own with the
// given identity. OpenSSH reads ~/.ssh/config from the passwd entry's home,
// not $HOME, so a wrapper adding -F stands in for the user's ~/.ssh/config.
func useSSHConfig(tb testing.TB, s *testSSHD, identity string) {
	tb.Helper()
	dir, err := os.MkdirTemp(s.dir, "client-")
	require.NoError(tb, err)
	knownHosts := filepath.Join(dir, "known_hosts")
	require.NoError(tb, os.WriteFile(knownHosts, []byte(s.knownHost), 0o600))
	cfg := strings.Join([]string{
		"Host *",
		"  IdentityFile " + identity,
		"  IdentitiesOnly yes",
		"  IdentityAgent none",
		"  BatchMode yes",
		"  StrictHostKeyChecking yes",
		"  UserKnownHostsFile " + knownHosts,
		"  GlobalKnownHostsFile /dev/null",
		"  LogLevel ERROR",
	}, "\n") + "\n"
	cfgPath := filepath.Join(dir, "ssh_config")
	require.NoError(tb, os.WriteFile(cfgPath, []byte(cfg), 0o600))
	bin := filepath.Join(dir, "bin")
	require.NoError(tb, os.Mkdir(bin, 0o700))
	wrapper := fmt.Sprintf("#!/bin/sh\nexec %s -F %s \"$@\"\n", s.ssh, cfgPath)
	require.NoError(tb, os.WriteFile(filepath.Join(bin, "ssh"), []byte(wrapper), 0o700))
	tb.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// requireNoSSHChildren waits until no ssh child process of this test
// binary is left, reaped included.
func requireNoSSHChildren(t *testing.T, why string) {
	t.Helper()
	require.Eventually(t, func() bool { return sshChildren(t) == 0 }, 5*time.Second, 10*time.Millisecond,
		"%s: %d ssh processes left (zombies count)", why, sshChildren(t))
}

// sshChildren counts this process's child processes running ssh, zombies
// included: a child that exited but was not waited for still counts.
func sshChildren(tb testing.TB) int {
	tb.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(tb, err)
	self := strconv.Itoa(os.Getpid())
	n := 0
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parens.
		s := string(stat)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		rest := strings.Fields(s[closing+1:])
		if s[open+1:closing] == "ssh" && len(rest) >= 2 && rest[1] == self {
			n++
		}
	}
	return n
}

// TestRemoteSSH runs the container lifecycle on the main engine reached
// through ssh://root@127.0.0.1:PORT, checks that concurrent connections are
// as many ssh processes, all reaped when the client closes, and that each
// way an ssh connection fails gives an *SSHError naming its cause.
func TestRemoteSSH(t *testing.T) {
	requireRoot(t)
	s := startSSHD(t)

	t.Run("lifecycle", func(t *testing.T) {
		clearEngineEnv(t)
		useSSHConfig(t, s, s.clientKey)
		t.Setenv("DOCKER_HOST", s.host())
		c, err := New()
		require.NoError(t, err)
		assert.Equal(t, "ssh", c.Endpoint().Scheme())
		assert.Nil(t, c.Endpoint().TLS, "ssh carries its own encryption")
		lifecycle(t, c, "127.0.0.1")
		require.NoError(t, c.Close())
		requireNoSSHChildren(t, "after Close")
	})

	t.Run("processes reaped on Close", func(t *testing.T) {
		clearEngineEnv(t)
		useSSHConfig(t, s, s.clientKey)
		requireNoSSHChildren(t, "before the test")
		c, err := New(WithHost(s.host()))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err = c.Version(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, sshChildren(t), "the negotiation's connection is one ssh process")
		// An event stream holds its connection: four of them (one reusing
		// the idle connection) make four connections, each its own ssh
		// process.
		evCtx, stopEvents := context.WithCancel(ctx)
		var wg sync.WaitGroup
		var ended [4]<-chan error
		for i := range ended {
			wg.Go(func() { _, ended[i] = c.Events(evCtx, Filters{"label": {"berth.test=" + t.Name()}}) })
		}
		wg.Wait()
		assert.Equal(t, 4, sshChildren(t), "one ssh process per connection")
		stopEvents()
		for _, e := range ended {
			assert.NoError(t, <-e)
		}
		require.NoError(t, c.Close())
		requireNoSSHChildren(t, "after Close")
	})

	login := fmt.Sprintf("ssh -l root -p %d 127.0.0.1 docker system dial-stdio", s.port)
	closedPort := freePort(t)
	for _, tc := range []struct {
		name string
		host string
		key  string
		want []string
	}{
		{name: "key not authorized", host: s.host(), key: s.otherKey,
			want: []string{"ssh to the engine at " + s.host() + " failed", "Permission denied (publickey)", "exit status 255", login}},
		{name: "nothing listening", host: fmt.Sprintf("ssh://root@127.0.0.1:%d", closedPort), key: s.clientKey,
			want: []string{"port " + strconv.Itoa(closedPort) + ": Connection refused"}},
		{name: "no docker on the remote PATH", host: s.host(), key: s.noDockerKey,
			want: []string{"docker: not found", "exit status 127", "docker 18.09 or newer on its PATH"}},
		{name: "remote engine not running", host: s.host(), key: s.noEngineKey,
			want: []string{"/nonexistent/docker.sock", "exit status 1", "running engine"}},
	} {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			clearEngineEnv(t)
			useSSHConfig(t, s, tc.key)
			c, err := New(WithHost(tc.host))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err = c.Version(ctx)
			require.Error(t, err)
			t.Log(err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			var se *SSHError
			assert.ErrorAs(t, err, &se)
			assert.ErrorIs(t, err, ErrDaemonUnreachable)
			c.Close()
			requireNoSSHChildren(t, "after a failed ssh")
		})
	}
}
