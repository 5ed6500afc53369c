//go:build linux && !mutation

// Needs an engine: left out of mutation runs (scripts/mutation.sh).

package wire

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testCA is a throw-away certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(tb testing.TB, name string) *testCA {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(tb, err)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(tb),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(tb, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(tb, err)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func serial(tb testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	require.NoError(tb, err)
	return n
}

// writeCertDir writes the layout docker expects in DOCKER_CERT_PATH or a
// context's TLS directory: ca.pem (trusted) and, when signer is not nil,
// cert.pem and key.pem of a fresh certificate signed by signer. A server
// certificate is valid for 127.0.0.1 only.
func writeCertDir(tb testing.TB, dir string, trusted, signer *testCA, server bool) {
	tb.Helper()
	require.NoError(tb, os.MkdirAll(dir, 0o700))
	require.NoError(tb, os.WriteFile(filepath.Join(dir, "ca.pem"), trusted.pem, 0o600))
	if signer == nil {
		return
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(tb, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial(tb),
		Subject:      pkix.Name{CommonName: "berth test client"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.Subject.CommonName = "berth test engine"
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer.cert, &key.PublicKey, signer.key)
	require.NoError(tb, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(tb, err)
	require.NoError(tb, os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(tb, os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
}

// testDaemon is a second dockerd, beside the main engine, that serves its
// API on a unix socket (plain) and on 127.0.0.1 over TCP with mutual TLS.
// It runs its own containerd and its own bridge interface, and leaves the
// host's iptables alone (published ports go through docker-proxy), so it
// touches nothing of the main engine's.
//
// Not --bridge=none: a dockerd started with it deletes the interface
// docker0 — the main engine's bridge — on start-up.
type testDaemon struct {
	dir     string // data, exec root, certificates and log
	sock    string // unix socket path
	tcpHost string // tcp://127.0.0.1:PORT
	ca      *testCA
	certDir string // ca.pem, cert.pem, key.pem of a client the daemon trusts
}

// clientTLS loads a client TLS config from a certificate directory the way
// DOCKER_CERT_PATH is loaded.
func (d *testDaemon) clientTLS(tb testing.TB, dir string) *tls.Config {
	tb.Helper()
	cfg, err := loadTLS(dir, true)
	require.NoError(tb, err)
	return cfg
}

// startTLSDaemon starts a second dockerd and registers its teardown: the
// daemon and its containerd stop, their mounts go and the directory is
// removed.
func startTLSDaemon(tb testing.TB) *testDaemon {
	tb.Helper()
	requireRoot(tb)
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		dockerd = "/usr/sbin/dockerd"
	}
	_, err = os.Stat(dockerd)
	require.NoError(tb, err, "dockerd is needed for the remote tests: apt-get install docker.io (make engine)")

	// The main engine's bridge must come through untouched.
	if before, err := net.InterfaceByName("docker0"); err == nil {
		tb.Cleanup(func() {
			after, err := net.InterfaceByName("docker0")
			if err != nil || after.Index != before.Index {
				tb.Errorf("the main engine's docker0 was removed or replaced while the second dockerd ran (%v)", err)
			}
		})
	}

	// A short path: containerd's sockets live under the exec root and a
	// unix socket path must stay below 108 bytes.
	dir, err := os.MkdirTemp("", "berth-dockerd-")
	require.NoError(tb, err)
	tb.Cleanup(func() { removeDaemonDir(tb, dir) })

	bridge := createBridge(tb)
	d := &testDaemon{dir: dir, sock: filepath.Join(dir, "docker.sock"), ca: newTestCA(tb, "berth test CA")}
	d.tcpHost = fmt.Sprintf("tcp://127.0.0.1:%d", freePort(tb))
	serverDir := filepath.Join(dir, "server")
	writeCertDir(tb, serverDir, d.ca, d.ca, true)
	d.certDir = filepath.Join(dir, "client")
	writeCertDir(tb, d.certDir, d.ca, d.ca, false)
	// Without --config-file dockerd would read /etc/docker/daemon.json,
	// which belongs to the main engine.
	require.NoError(tb, os.WriteFile(filepath.Join(dir, "daemon.json"), []byte("{}"), 0o600))

	logPath := filepath.Join(dir, "dockerd.log")
	cmd, exited := startProcess(tb, logPath, dockerd,
		"--config-file", filepath.Join(dir, "daemon.json"),
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"-H", "unix://"+d.sock,
		"-H", d.tcpHost,
		"--tlsverify",
		"--tlscacert", filepath.Join(serverDir, "ca.pem"),
		"--tlscert", filepath.Join(serverDir, "cert.pem"),
		"--tlskey", filepath.Join(serverDir, "key.pem"),
		// docker0 and the iptables rules belong to the main engine.
		"--bridge", bridge,
		"--iptables=false",
		"--ip-masq=false",
		"--ip-forward=false",
		// Should a system containerd be found and used, keep apart from
		// the main engine's namespace.
		"--containerd-namespace", "berth-remote-test",
		"--containerd-plugins-namespace", "berth-remote-test-plugins",
		"--shutdown-timeout", "2",
	)
	tb.Cleanup(func() {
		stopProcess(tb, cmd, exited, 20*time.Second)
		waitNoProcessUnder(tb, dir)
	})

	plain, err := New(WithHost("unix://" + d.sock))
	require.NoError(tb, err)
	defer plain.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := plain.Ping(ctx)
		cancel()
		if err == nil {
			break
		}
		select {
		case <-exited:
			tb.Fatalf("second dockerd exited during start-up:\n%s", tailFile(logPath, 4096))
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("second dockerd does not answer /_ping after 30 s (%v):\n%s", err, tailFile(logPath, 4096))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return d
}

// createBridge adds a bridge interface for the second dockerd with a /24
// from 198.18.0.0/15 (reserved for benchmarks, never routed) that no
// interface uses yet, and deletes it at the end of the test.
func createBridge(tb testing.TB) string {
	tb.Helper()
	ipTool := ensureTool(tb, "ip", "iproute2")
	var suffix [3]byte
	rand.Read(suffix[:])
	name := fmt.Sprintf("berth%x", suffix) // 11 bytes; the kernel allows 15
	addrs, err := net.InterfaceAddrs()
	require.NoError(tb, err)
	used := func(subnet *net.IPNet) bool {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && (subnet.Contains(n.IP) || n.Contains(subnet.IP)) {
				return true
			}
		}
		return false
	}
	var gateway string
	for i := int(suffix[0]); i < int(suffix[0])+512; i++ {
		_, subnet, _ := net.ParseCIDR(fmt.Sprintf("198.%d.%d.0/24", 18+(i/256)%2, i%256))
		if !used(subnet) {
			gateway = fmt.Sprintf("%s/24", net.IP{subnet.IP[0], subnet.IP[1], subnet.IP[2], 1})
			break
		}
	}
	require.NotEmpty(tb, gateway, "no free /24 in 198.18.0.0/15 for the second dockerd's bridge")
	ipCmd := func(args ...string) error {
		out, err := exec.Command(ipTool, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	require.NoError(tb, ipCmd("link", "add", "name", name, "type", "bridge"))
	tb.Cleanup(func() {
		if err := ipCmd("link", "del", name); err != nil {
			tb.Error(err)
		}
	})
	require.NoError(tb, ipCmd("addr", "add", gateway, "dev", name))
	require.NoError(tb, ipCmd("link", "set", name, "up"))
	return name
}

// waitNoProcessUnder waits until no process mentions dir on its command
// line (dockerd's containerd and shims), then fails the test if one stays.
func waitNoProcessUnder(tb testing.TB, dir string) {
	tb.Helper()
	var left []string
	for range 100 {
		left = processesMentioning(dir)
		if len(left) == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Errorf("processes of the second dockerd outlived it: %s", strings.Join(left, "; "))
}

func processesMentioning(s string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), s) {
			continue
		}
		out = append(out, e.Name()+": "+strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " "))
	}
	return out
}

// removeDaemonDir unmounts what dockerd left mounted under dir (its network
// namespace files, overlay mounts) and removes dir.
func removeDaemonDir(tb testing.TB, dir string) {
	tb.Helper()
	mounts := mountsUnder(dir)
	// Deepest first.
	slices.SortFunc(mounts, func(a, b string) int { return len(b) - len(a) })
	for _, m := range mounts {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
			tb.Errorf("unmount %s: %v", m, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		tb.Errorf("remove the second dockerd's directory: %v", err)
	}
}

// mountsUnder lists mount points at or below dir from /proc/self/mountinfo.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		// Field 5 is the mount point, with spaces as \040.
		mp := strings.ReplaceAll(fields[4], `\040`, " ")
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out
}

// writeContext writes a docker CLI context named name in the config
// directory cfgDir: contexts/meta/<sha256(name)>/meta.json and the TLS files
// in contexts/tls/<sha256(name)>/docker/.
func writeContext(tb testing.TB, cfgDir, name, host, certDir string) {
	tb.Helper()
	id := contextID(name)
	metaDir := filepath.Join(cfgDir, "contexts", "meta", id)
	require.NoError(tb, os.MkdirAll(metaDir, 0o700))
	meta := map[string]any{
		"Name":     name,
		"Metadata": map[string]any{"Description": "berth remote TLS test"},
		"Endpoints": map[string]any{
			"docker": map[string]any{"Host": host, "SkipTLSVerify": false},
		},
	}
	data, err := json.Marshal(meta)
	require.NoError(tb, err)
	require.NoError(tb, os.WriteFile(filepath.Join(metaDir, "meta.json"), data, 0o600))
	tlsDir := filepath.Join(cfgDir, "contexts", "tls", id, "docker")
	require.NoError(tb, os.MkdirAll(tlsDir, 0o700))
	for _, f := range []string{"ca.pem", "cert.pem", "key.pem"} {
		b, err := os.ReadFile(filepath.Join(certDir, f))
		require.NoError(tb, err)
		require.NoError(tb, os.WriteFile(filepath.Join(tlsDir, f), b, 0o600))
	}
}

// clearEngineEnv makes the environment name no engine, so each case sets
// exactly what it tests.
func clearEngineEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_CERT_PATH"} {
		t.Setenv(k, "")
	}
	t.Setenv("DOCKER_CONFIG", t.TempDir())
}

// TestRemoteTLS runs the container lifecycle against a second dockerd over
// TCP with mutual TLS, configured the two ways a user does it, and checks
// that each broken TLS setup fails with an error naming its cause.
// refusedVersion asks c for the engine's version, which must fail, and
// returns the error (logged, for a reader of -v).
func refusedVersion(t *testing.T, c *Client) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.Version(ctx)
	require.Error(t, err)
	t.Log(err)
	return err
}

func TestRemoteTLS(t *testing.T) {
	requireRoot(t)
	d := startTLSDaemon(t)
	{
		c, err := New(WithEndpoint(Endpoint{Host: d.tcpHost, From: "test", TLS: d.clientTLS(t, d.certDir)}))
		require.NoError(t, err)
		loadTestImage(t, c) // a streamed upload through TLS
		c.Close()
	}

	// Each way of pointing at the TLS engine from the environment.
	for _, tc := range []struct {
		name          string
		point         func(t *testing.T)
		from, tlsFrom string
	}{
		{name: "DOCKER_HOST", point: func(t *testing.T) {
			t.Setenv("DOCKER_HOST", d.tcpHost)
			t.Setenv("DOCKER_TLS_VERIFY", "1")
			t.Setenv("DOCKER_CERT_PATH", d.certDir)
		}, from: "DOCKER_HOST", tlsFrom: "DOCKER_CERT_PATH"},
		{name: "context/DOCKER_CONTEXT", point: func(t *testing.T) {
			writeContext(t, os.Getenv("DOCKER_CONFIG"), "berth-remote", d.tcpHost, d.certDir)
			t.Setenv("DOCKER_CONTEXT", "berth-remote")
		}, from: "context berth-remote", tlsFrom: "context berth-remote"},
		{name: "context/currentContext", point: func(t *testing.T) { // named in config.json
			cfgDir := os.Getenv("DOCKER_CONFIG")
			writeContext(t, cfgDir, "berth-remote", d.tcpHost, d.certDir)
			require.NoError(t, os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(`{"currentContext":"berth-remote"}`), 0o600))
		}, from: "context berth-remote", tlsFrom: "context berth-remote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEngineEnv(t)
			tc.point(t)
			c, err := New()
			require.NoError(t, err)
			defer c.Close()
			ep := c.Endpoint()
			assert.Equal(t, tc.from, ep.From)
			assert.Equal(t, tc.tlsFrom, ep.TLSFrom)
			assert.Equal(t, d.tcpHost, ep.Host)
			require.NotNil(t, ep.TLS)
			lifecycle(t, c, "127.0.0.1")
		})
	}

	// Broken setups, each against the same listening daemon.
	otherCA := newTestCA(t, "berth other CA")
	wrongCA := filepath.Join(t.TempDir(), "wrong-ca")
	writeCertDir(t, wrongCA, otherCA, d.ca, false)
	noCert := filepath.Join(t.TempDir(), "no-cert")
	writeCertDir(t, noCert, d.ca, nil, false)
	foreignCert := filepath.Join(t.TempDir(), "foreign-cert")
	writeCertDir(t, foreignCert, d.ca, otherCA, false)

	plainHTTP := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41")
		w.Write([]byte("OK"))
	}))
	defer plainHTTP.Close()
	plainHost := "tcp://" + plainHTTP.Listener.Addr().String()
	byName := strings.Replace(d.tcpHost, "127.0.0.1", "localhost", 1)

	for _, tc := range []struct {
		name     string
		host     string // DOCKER_HOST; empty: the TLS daemon
		certPath string // DOCKER_CERT_PATH; empty: no TLS at all
		want     []string
		// refusal: the engine refuses the client's certificate, with an
		// alert or, when its reset comes first, by closing the connection
		// (TestClientCertRefusedByReset).
		refusal bool
	}{
		{
			name:     "server certificate from an untrusted CA",
			certPath: wrongCA,
			want:     []string{"TLS handshake", "certificate signed by unknown authority", "not signed by ca.pem from DOCKER_CERT_PATH"},
		},
		{
			name:     "server certificate for another name",
			host:     byName,
			certPath: d.certDir,
			want:     []string{"TLS handshake", "match localhost", "does not name the host"},
		},
		{
			name:     "no client certificate",
			certPath: noCert,
			want:     []string{"TLS handshake", "no client certificate was given", "cert.pem and key.pem"},
			refusal:  true,
		},
		{
			name:     "client certificate from a CA the engine does not trust",
			certPath: foreignCert,
			want:     []string{"TLS handshake", "refused the client certificate from DOCKER_CERT_PATH"},
			refusal:  true,
		},
		{
			name: "plain HTTP to the TLS port",
			want: []string{"speaks TLS", "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH"},
		},
		{
			name:     "TLS to a plain HTTP port",
			host:     plainHost,
			certPath: d.certDir,
			want:     []string{"TLS handshake", "does not speak TLS", "unset DOCKER_TLS_VERIFY"},
		},
	} {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			clearEngineEnv(t)
			host := tc.host
			if host == "" {
				host = d.tcpHost
			}
			t.Setenv("DOCKER_HOST", host)
			if tc.certPath != "" {
				t.Setenv("DOCKER_TLS_VERIFY", "1")
				t.Setenv("DOCKER_CERT_PATH", tc.certPath)
			}
			c, err := New()
			require.NoError(t, err, "the configuration itself is well formed")
			defer c.Close()
			err = refusedVersion(t, c)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			if tc.refusal && !errors.Is(err, errClosedAfterHandshake) {
				assert.Contains(t, err.Error(), "bad certificate")
			}
			if tc.certPath != "" {
				var te *TLSError
				assert.ErrorAs(t, err, &te, "a TLS failure is a *TLSError")
			}
			assert.NotErrorIs(t, err, context.DeadlineExceeded, "a refusal must not wait for the timeout")
		})
	}
}
