//go:build !mutation

// Needs an engine: left out of mutation runs (scripts/mutation.sh).

package registry

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/syncbuf"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
)

// registryImage is the fixture image, tagged like the official one. It is a
// variable so a run can point it at another build with -ldflags -X.
var registryImage = "registry:2.8"

const (
	testUser = "ci"
	// testHtpasswd is `htpasswd -Bbn ci pa55-w0rd-SECRET` (testPassword),
	// so the tests need no bcrypt tool.
	testHtpasswd = "ci:$2y$05$QXySczIBDefScCo3HT.IQOenMyyhbNz4D970V5DElntnICpQBDOPG\n"
)

func randomID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// engineClient returns a client for the engine of the environment. The
// engine must answer: these tests prove behaviour against a real one.
func engineClient(t *testing.T) *wire.Client {
	t.Helper()
	c, err := wire.New()
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err = c.Ping(ctx)
	require.NoError(t, err, "the Docker engine must be reachable for registry tests")
	return c
}

// cleanupCtx is for t.Cleanup, when t.Context() is already cancelled.
func cleanupCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// testRegistry is a distribution registry with htpasswd auth on loopback.
type testRegistry struct {
	host    string // 127.0.0.1:PORT
	session string
}

// startRegistry starts the registry:2.8 fixture with htpasswd auth and a
// random published port on 127.0.0.1. Without the fixture image it runs
// Debian's docker-registry on the host when the engine is local.
func startRegistry(t *testing.T, c *wire.Client) testRegistry {
	t.Helper()
	session := "registry-test-" + randomID(t)
	if _, err := c.ImageInspect(t.Context(), registryImage); err == nil {
		return testRegistry{host: startRegistryContainer(t, c, session), session: session}
	} else if !errors.Is(err, wire.ErrNotFound) {
		require.NoError(t, err)
	}
	bin, err := exec.LookPath("docker-registry")
	local := strings.HasPrefix(c.Endpoint().Host, "unix://")
	if err != nil || !local {
		msg := fmt.Sprintf("the %s fixture image is not built and no docker-registry program can run beside a local engine: build the fixtures (see .ci) or apt-get install docker-registry", registryImage)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return testRegistry{host: startRegistryProcess(t, bin), session: session}
}

func startRegistryContainer(t *testing.T, c *wire.Client, session string) string {
	t.Helper()
	ctx := t.Context()
	created, err := c.ContainerCreate(ctx, "", &wire.ContainerConfig{
		Image: registryImage,
		Env: []string{
			"REGISTRY_AUTH=htpasswd",
			"REGISTRY_AUTH_HTPASSWD_REALM=berth-test",
			"REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd",
		},
		Labels:       map[string]string{"berth.session": session, "berth.test": t.Name()},
		ExposedPorts: map[string]struct{}{"5000/tcp": {}},
		HostConfig: &wire.HostConfig{
			PortBindings: map[string][]wire.PortBinding{"5000/tcp": {{HostIP: "127.0.0.1"}}},
		},
	}, "")
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := cleanupCtx()
		defer cancel()
		assert.NoError(t, c.ContainerRemove(ctx, created.ID, wire.RemoveOptions{Force: true, Volumes: true}))
	})

	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "auth/", Typeflag: tar.TypeDir, Mode: 0o755}))
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "auth/htpasswd", Mode: 0o644, Size: int64(len(testHtpasswd))}))
	_, err = tw.Write([]byte(testHtpasswd))
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	require.NoError(t, c.CopyToContainer(ctx, created.ID, "/", &archive))

	require.NoError(t, c.ContainerStart(ctx, created.ID))
	info, err := c.ContainerInspect(ctx, created.ID)
	require.NoError(t, err)
	bindings := info.NetworkSettings.Ports["5000/tcp"]
	require.NotEmpty(t, bindings, "registry port not published")
	host := net.JoinHostPort("127.0.0.1", bindings[0].HostPort)
	waitRegistry(t, host, func() string {
		state, err := c.ContainerInspect(context.Background(), created.ID)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("container state %s, exit code %d", state.State.Status, state.State.ExitCode)
	})
	return host
}

func startRegistryProcess(t *testing.T, bin string) string {
	t.Helper()
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	host := l.Addr().String()
	require.NoError(t, l.Close())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(testHtpasswd), 0o600))
	config := fmt.Sprintf(`version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
auth:
  htpasswd:
    realm: berth-test
    path: %s
`, filepath.Join(dir, "data"), host, filepath.Join(dir, "htpasswd"))
	cfgPath := filepath.Join(dir, "config.yml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(config), 0o600))

	var logs bytes.Buffer
	var mu sync.Mutex
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout = &lockedWriter{w: &logs, mu: &mu}
	cmd.Stderr = cmd.Stdout
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	waitRegistry(t, host, func() string {
		mu.Lock()
		defer mu.Unlock()
		return "registry output: " + logs.String()
	})
	return host
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// waitRegistry waits until GET /v2/ asks for credentials.
func waitRegistry(t *testing.T, host string, diagnose func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry at %s not ready after 30s (last: %v); %s", host, err, diagnose())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// buildTestImage builds a one-file image labelled with the session and
// tagged ref; it is removed when the test ends.
func buildTestImage(t *testing.T, c *wire.Client, ref, session string) {
	t.Helper()
	testenv.BuildFiles(t, c, map[string]string{
		"Dockerfile": "FROM scratch\nCOPY hello /hello\nLABEL berth.session=" + session + "\n",
		"hello":      "hello " + session + "\n",
	}, url.Values{"t": {ref}})
}

// recorder collects everything a test would show a user (errors,
// progress) to prove no secret is in it.
type recorder struct{ syncbuf.Buffer }

func (r *recorder) err(err error) error {
	if err != nil {
		fmt.Fprintf(r, "error: %v\n%+v\n%#v\n", err, err, err)
	}
	return err
}

func TestEngineRegistry(t *testing.T) {
	c := engineClient(t)
	reg := startRegistry(t, c)
	ref := reg.host + "/berth/test:" + reg.session
	buildTestImage(t, c, ref, reg.session)

	rec := &recorder{}
	t.Cleanup(func() {
		assertNoSecret(t, rec.String())
		if t.Failed() {
			t.Log("what a user would have seen:\n" + rec.String())
		}
	})
	good := AuthConfig{Username: testUser, Password: testPassword}
	var digest string // of the pushed image
	removeLocal := func(t *testing.T) {
		t.Helper()
		err := c.ImageRemove(t.Context(), ref, false, false)
		if !errors.Is(err, wire.ErrNotFound) {
			require.NoError(t, err)
		}
		_, err = c.ImageInspect(t.Context(), ref)
		require.ErrorIs(t, err, wire.ErrNotFound)
	}

	t.Run("anonymous push is refused", func(t *testing.T) {
		hermeticDocker(t)
		err := rec.err(Push(t.Context(), testenv.Public(c), nil, ref, rec))
		require.Error(t, err)
		assert.ErrorIs(t, err, engine.ErrUnauthorized)
		var se *wire.StreamError
		assert.True(t, errors.As(err, &se), "the engine reports this inside the progress stream")
		assert.Contains(t, err.Error(), "no basic auth credentials")
		assert.Contains(t, err.Error(), "credentials: anonymous")
		assert.Contains(t, err.Error(), "no credentials were found for "+reg.host)
	})

	t.Run("login", func(t *testing.T) {
		tests := []struct {
			name string
			auth AuthConfig
			ok   bool
		}{
			{"right password", AuthConfig{Username: testUser, Password: testPassword, ServerAddress: reg.host}, true},
			{"auth field", AuthConfig{Auth: basicAuth(testUser, testPassword), ServerAddress: reg.host}, true},
			{"wrong password", AuthConfig{Username: testUser, Password: testPassword + "-wrong", ServerAddress: reg.host}, false},
			{"unknown user", AuthConfig{Username: "nobody", Password: testPassword, ServerAddress: reg.host}, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				token, err := Login(t.Context(), testenv.Public(c), tt.auth)
				rec.err(err)
				if tt.ok {
					require.NoError(t, err)
					assert.Empty(t, token, "an htpasswd registry issues no identity token")
					return
				}
				require.Error(t, err)
				assert.ErrorIs(t, err, engine.ErrUnauthorized)
				assert.Contains(t, err.Error(), "login to "+reg.host)
				assert.Contains(t, err.Error(), "check the user name and password")
				assertNoSecret(t, err.Error(), tt.auth.Password)
			})
		}
	})

	t.Run("push with explicit credentials", func(t *testing.T) {
		hermeticDocker(t)
		var progress bytes.Buffer
		err := rec.err(Push(t.Context(), testenv.Public(c), WithAuth(nil, reg.host, good), ref, &progress))
		rec.Write(progress.Bytes())
		require.NoError(t, err)
		m := regexp.MustCompile(`digest: (sha256:[0-9a-f]{64})`).FindStringSubmatch(progress.String())
		require.NotNil(t, m, "the engine reports the pushed digest: %s", progress.String())
		digest = m[1]
		assert.NotContains(t, progress.String(), "{", "progress is plain lines, not JSON")
	})

	t.Run("anonymous pull is refused", func(t *testing.T) {
		hermeticDocker(t)
		removeLocal(t)
		err := rec.err(Pull(t.Context(), testenv.Public(c), nil, ref, rec))
		require.Error(t, err)
		assert.ErrorIs(t, err, engine.ErrUnauthorized)
		assert.Contains(t, err.Error(), "credentials: anonymous")
		assert.Contains(t, err.Error(), "docker login "+reg.host)
	})

	t.Run("wrong password pull is refused", func(t *testing.T) {
		hermeticDocker(t)
		wrong := AuthConfig{Username: testUser, Password: "wrong-" + testPassword}
		err := rec.err(Pull(t.Context(), testenv.Public(c), WithAuth(nil, reg.host, wrong), ref, rec))
		require.Error(t, err)
		assert.ErrorIs(t, err, engine.ErrUnauthorized)
		assert.Contains(t, err.Error(), "credentials: explicit")
		assert.Contains(t, err.Error(), "refused these credentials")
		assertNoSecret(t, err.Error(), wrong.Password)
	})

	sources := []struct {
		name   string
		setup  func(t *testing.T, configPath string) Keychain
		source SourceKind
	}{
		{"explicit", func(t *testing.T, _ string) Keychain {
			return WithAuth(nil, reg.host, good)
		}, SourceExplicit},
		{"DOCKER_AUTH_CONFIG", func(t *testing.T, _ string) Keychain {
			t.Setenv(EnvAuthConfig, jsonText(t, obj{"auths": obj{reg.host: obj{"auth": basicAuth(testUser, testPassword)}}}))
			return nil
		}, SourceAuths},
		{"config.json auths", func(t *testing.T, path string) Keychain {
			writeConfig(t, path, obj{"auths": obj{"http://" + reg.host + "/v2/": obj{"auth": basicAuth(testUser, testPassword)}}})
			return DefaultKeychain()
		}, SourceAuths},
		{"credsStore helper", func(t *testing.T, path string) Keychain {
			useTestHelper(t, map[string]helperCredentials{reg.host: {ServerURL: reg.host, Username: testUser, Secret: testPassword}})
			writeConfig(t, path, obj{"credsStore": testHelperName, "auths": obj{reg.host: obj{}}})
			return nil
		}, SourceCredsStore},
		{"credHelpers helper", func(t *testing.T, path string) Keychain {
			useTestHelper(t, map[string]helperCredentials{reg.host: {ServerURL: reg.host, Username: testUser, Secret: testPassword}})
			writeConfig(t, path, obj{"credHelpers": obj{reg.host: testHelperName}})
			return nil
		}, SourceCredHelpers},
	}
	for _, src := range sources {
		t.Run("pull with credentials from "+src.name, func(t *testing.T) {
			path := hermeticDocker(t)
			kc := src.setup(t, path)
			if kc == nil {
				kc = DefaultKeychain()
			}
			_, got, err := kc.Resolve(t.Context(), reg.host)
			require.NoError(t, err)
			assert.Equal(t, src.source, got.Kind)

			removeLocal(t)
			var progress bytes.Buffer
			err = rec.err(Pull(t.Context(), testenv.Public(c), kc, ref, &progress))
			rec.Write(progress.Bytes())
			require.NoError(t, err)
			_, err = c.ImageInspect(t.Context(), ref)
			require.NoError(t, err, "the pulled image is there")
			assert.Contains(t, progress.String(), "Downloaded newer image for "+ref)
		})
	}

	t.Run("pull by digest", func(t *testing.T) {
		hermeticDocker(t)
		require.NotEmpty(t, digest, "the push must have succeeded")
		byDigest := reg.host + "/berth/test@" + digest
		err := rec.err(Pull(t.Context(), testenv.Public(c), WithAuth(nil, reg.host, good), byDigest, rec))
		require.NoError(t, err)
		info, err := c.ImageInspect(t.Context(), byDigest)
		require.NoError(t, err)
		assert.Contains(t, info.RepoDigests, byDigest)
	})

	t.Run("push with credentials from a helper", func(t *testing.T) {
		path := hermeticDocker(t)
		useTestHelper(t, map[string]helperCredentials{reg.host: {ServerURL: reg.host, Username: testUser, Secret: testPassword}})
		writeConfig(t, path, obj{"credsStore": testHelperName})
		require.NoError(t, rec.err(Push(t.Context(), testenv.Public(c), nil, ref, rec)))
	})

	t.Run("push of a missing image surfaces the engine error", func(t *testing.T) {
		hermeticDocker(t)
		err := rec.err(Push(t.Context(), testenv.Public(c), WithAuth(nil, reg.host, good), reg.host+"/berth/missing:"+reg.session, rec))
		require.Error(t, err)
		var se *wire.StreamError
		assert.True(t, errors.As(err, &se), "the error came inside the progress stream: %T", errors.Unwrap(err))
		assert.Contains(t, err.Error(), "does not exist locally")
		assert.Contains(t, err.Error(), "credentials: explicit")
		assert.NotErrorIs(t, err, engine.ErrUnauthorized)
	})

	t.Run("pull of a missing tag is not found", func(t *testing.T) {
		hermeticDocker(t)
		err := rec.err(Pull(t.Context(), testenv.Public(c), WithAuth(nil, reg.host, good), reg.host+"/berth/test:missing-"+reg.session, rec))
		require.Error(t, err)
		assert.ErrorIs(t, err, wire.ErrNotFound)
		assert.NotErrorIs(t, err, engine.ErrUnauthorized)
	})
}

func TestPushRefusesBadReferences(t *testing.T) {
	tests := []struct {
		name, ref, want string
		is              error
	}{
		{"invalid", "Bad/Ref:-x", "registry: push: invalid image reference", ErrInvalidReference},
		{"digest", "localhost:5000/app@sha256:" + hex64, "cannot push a digest reference", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// No engine call happens before the reference is checked.
			err := Push(t.Context(), nil, Static(nil), tt.ref, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
		})
	}
	err := Pull(t.Context(), nil, Static(nil), "", nil)
	assert.ErrorIs(t, err, ErrInvalidReference)
}

func TestProgressWriter(t *testing.T) {
	var out bytes.Buffer
	fn := progressWriter(&out)
	for _, m := range []wire.JSONMessage{
		{Status: "The push refers to repository [localhost:5000/app]"},
		{Status: "Preparing", ID: "abc"},
		{Status: "Pushing", ID: "abc", Progress: "[=>   ] 1kB/2kB"},
		{Status: "Pushed", ID: "abc"},
		{Stream: "Step 1/2 : FROM scratch\n"},
		{Aux: []byte(`{"Digest":"sha256:x"}`)},
		{Status: "1: digest: sha256:x size: 528"},
	} {
		require.NoError(t, fn(m))
	}
	assert.Equal(t, "The push refers to repository [localhost:5000/app]\nabc: Preparing\nabc: Pushed\nStep 1/2 : FROM scratch\n1: digest: sha256:x size: 528\n", out.String())
	assert.Nil(t, progressWriter(nil))
}

func TestScrub(t *testing.T) {
	base := fmt.Errorf("wrapped: %w", wire.ErrUnauthorized)
	a := AuthConfig{Username: "ci", Password: testPassword}
	assert.Same(t, base, scrub(base, a), "an error without secrets is kept as is")

	leaky := fmt.Errorf("registry said password %s is wrong: %w", testPassword, wire.ErrUnauthorized)
	got := scrub(leaky, a)
	assert.Equal(t, "registry said password [redacted] is wrong: unauthorized", got.Error())
	assert.ErrorIs(t, got, engine.ErrUnauthorized)
}
