package container_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/registry"
	"github.com/berth-go/berth/wait"
)

// assertNothingLeft fails unless no container and no volume of the test
// exists: a failed start removes what it created.
func assertNothingLeft(t *testing.T, h *berth.Harness) {
	t.Helper()
	f := wire.Filters{"label": {engine.LabelTest + "=" + t.Name(), engine.LabelSession + "=" + h.Session().ID()}}
	ctrs, err := testenv.Wire(h.Engine()).ContainerList(t.Context(), true, f)
	require.NoError(t, err)
	assert.Empty(t, ctrs, "containers left after a failed start")
	// Podman ORs several label filters of a volume list: one label there,
	// the session checked here.
	vols, err := testenv.Wire(h.Engine()).VolumeList(t.Context(), wire.Filters{"label": {engine.LabelTest + "=" + t.Name()}})
	require.NoError(t, err)
	vols = slices.DeleteFunc(vols, func(v wire.Volume) bool { return v.Labels[engine.LabelSession] != h.Session().ID() })
	assert.Empty(t, vols, "volumes left after a failed start")
}

// hermeticCredentials points the session's keychain at an empty Docker
// configuration, so no credentials of the machine are found or sent.
func hermeticCredentials(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv(registry.EnvAuthConfig, "")
}

// fakeRegistry serves the registry API on loopback with one answer for
// every manifest: 401 (wants credentials) or 404 (no such manifest). It
// returns the registry's host:port; it skips where the engine cannot reach
// this process's loopback over plain HTTP.
func fakeRegistry(t *testing.T, h *berth.Harness, status int) string {
	t.Helper()
	if testenv.Wire(h.Engine()).Endpoint().Scheme() != "unix" || h.Engine().IsPodman(t.Context()) {
		t.Skip("the engine must run on this machine and treat a loopback registry as plain HTTP (dockerd does, Podman verifies TLS)")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		switch {
		case status == http.StatusUnauthorized:
			w.Header().Set("WWW-Authenticate", `Basic realm="berth-test"`)
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
		case r.URL.Path == "/v2/":
			fmt.Fprint(w, `{}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"1"}}]}`)
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// The image is not on the engine and the pull fails for a reason that is
// not credentials: the message says so, says what to do, and names no
// credentials.
func TestMissingImagePullFailureSaysWhatToDo(t *testing.T) {
	hermeticCredentials(t)
	h := berth.New(t)
	ctx := t.Context()
	notFound := fakeRegistry(t, h, http.StatusNotFound)
	tests := []struct {
		name, ref, registry, cause string
		is                         error
	}{
		// Nothing listens on port 1: the registry cannot be reached.
		{"registry unreachable", "127.0.0.1:1/berth/absent:1", "127.0.0.1:1", "connection refused", nil},
		{"no such manifest", notFound + "/berth/absent:1", notFound, "manifest unknown", wire.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.Container(tt.ref).Cmd("true").VolumeMount("data", "/data").StartE(ctx)
			require.Error(t, err)
			msg := err.Error()
			assert.Contains(t, msg, "image "+tt.ref+" is not on the engine and pulling it from "+tt.registry+" failed: ")
			assert.Contains(t, msg, tt.cause, "the engine's answer is the cause")
			assert.Contains(t, msg, "check the image name and tag (`docker images` lists what the engine has), build or load the image first, or use Pull(container.PullNever) to never pull")
			assert.NotContains(t, msg, "credentials", "the registry did not ask for credentials")
			assert.ErrorIs(t, err, container.ErrImageMissing)
			assert.NotErrorIs(t, err, wire.ErrUnauthorized)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			var pe *container.PullError
			require.ErrorAs(t, err, &pe)
			assert.True(t, pe.Missing)
			assert.Equal(t, tt.registry, pe.Registry)
			var api *wire.APIError
			assert.ErrorAs(t, err, &api, "the engine's error is kept as the cause")
		})
	}
	assertNothingLeft(t, h)
}

// The registry answers 401: only then the message is about credentials,
// says where they are looked up, and shows no secret.
func TestPullRefusedByRegistrySaysWhereCredentialsComeFrom(t *testing.T) {
	hermeticCredentials(t)
	h := berth.New(t)
	ctx := t.Context()
	host := fakeRegistry(t, h, http.StatusUnauthorized)
	ref := host + "/berth/private:1"
	const password = "pa55-w0rd-SECRET-x"

	t.Run("anonymous", func(t *testing.T) {
		_, err := h.Container(ref).Cmd("true").StartE(ctx)
		require.Error(t, err)
		msg := err.Error()
		assert.Contains(t, msg, "image "+ref+" is not on the engine and pulling it from "+host+" failed: ")
		assert.Contains(t, msg, "failed: the registry refused it (401 Unauthorized); the registry "+host+" refused the pull without credentials: if the name is right and the image is private, log in (docker login "+host+") or pass Auth(...) on the builder")
		assert.Contains(t, msg, "credentials are looked up in Auth(...) on the builder, else DOCKER_AUTH_CONFIG, else $DOCKER_CONFIG/config.json (default ~/.docker/config.json): credHelpers, credsStore, auths")
		assert.NotContains(t, msg, "PullNever", "a refusal is about credentials, not the name or the policy")
		assert.ErrorIs(t, err, engine.ErrUnauthorized)
		assert.ErrorIs(t, err, engine.ErrUnauthorized)
		assert.ErrorIs(t, err, container.ErrImageMissing)
		var pe *container.PullError
		require.ErrorAs(t, err, &pe)
		assert.False(t, pe.WithAuth)
	})
	t.Run("with Auth", func(t *testing.T) {
		_, err := h.Container(ref).Auth(registry.AuthConfig{Username: "ci", Password: password}).Cmd("true").StartE(ctx)
		require.Error(t, err)
		msg := err.Error()
		assert.Contains(t, msg, "the registry refused it (401 Unauthorized); the registry "+host+" refused the credentials from Auth(...) on the builder: check them, or log in again (docker login "+host+")")
		assert.NotContains(t, msg, password)
		assert.NotContains(t, msg, "500", "the engine's status is not the registry's answer")
		assert.ErrorIs(t, err, engine.ErrUnauthorized)
		var pe *container.PullError
		require.ErrorAs(t, err, &pe)
		assert.True(t, pe.WithAuth)
		assert.Equal(t, registry.SourceExplicit, pe.AuthSource.Kind)
	})
	t.Run("from the Docker config", func(t *testing.T) {
		dir := t.TempDir()
		auth := base64.StdEncoding.EncodeToString([]byte("ci:" + password))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{"`+host+`":{"auth":"`+auth+`"}}}`), 0o600))
		t.Setenv("DOCKER_CONFIG", dir)
		_, err := container.Run(ctx, h.Engine(), container.Spec{Image: ref, Cmd: []string{"true"}}, container.RunOptions{
			Labels: map[string]string{engine.LabelSession: h.Session().ID(), engine.LabelTest: t.Name()},
		})
		require.Error(t, err)
		msg := err.Error()
		assert.Contains(t, msg, "refused the credentials from config.json auths ("+filepath.Join(dir, "config.json")+")")
		assert.NotContains(t, msg, password)
		assert.NotContains(t, msg, auth)
		var pe *container.PullError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, registry.SourceAuths, pe.AuthSource.Kind)
	})
	assertNothingLeft(t, h)
}

// Credentials that cannot be looked up are named as the cause, not the
// pull.
func TestCredentialLookupFailureIsNamed(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	lookup := errors.New("credential helper docker-credential-broken: exit status 1")
	_, err := container.Run(t.Context(), h.Engine(), container.Spec{Image: "127.0.0.1:1/berth/absent:1"}, container.RunOptions{
		Labels:   map[string]string{engine.LabelSession: h.Session().ID(), engine.LabelTest: t.Name()},
		Keychain: failingKeychain{lookup},
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, lookup)
	assert.ErrorIs(t, err, container.ErrImageMissing)
	assert.Contains(t, err.Error(), "image 127.0.0.1:1/berth/absent:1 is not on the engine and pulling it from 127.0.0.1:1 failed: looking up credentials: credential helper docker-credential-broken: exit status 1; fix the credential configuration (Auth(...) on the builder, else DOCKER_AUTH_CONFIG")
	assertNothingLeft(t, h)
}

type failingKeychain struct{ err error }

func (k failingKeychain) Resolve(context.Context, string) (registry.AuthConfig, registry.Source, error) {
	return registry.AuthConfig{}, registry.Source{}, k.err
}

// A command the image does not have: the message names it, with the
// Entrypoint and Cmd used, says what to do and keeps the runtime's text as
// the cause; nothing is left behind.
func TestMissingCommandSaysWhatToDo(t *testing.T) {
	t.Parallel()
	// Built before the harness, so it is removed after the containers.
	withEntrypoint := testenv.BuildFiles(t, testenv.Engine(t), map[string]string{
		"Dockerfile": "FROM busybox:1.36\nENTRYPOINT [\"/opt/missing-entrypoint\"]\nCMD [\"serve\"]\nLABEL berth.test=" + t.Name() + "\n",
	}, nil)
	h := berth.New(t)
	ctx := t.Context()
	tests := []struct {
		name     string
		b        *berth.ContainerBuilder
		want     string
		cause    string
		notFound bool
	}{
		{"not in PATH", h.Container(busybox).Cmd("no-such-binary", "--flag"),
			`start: the container's command "no-such-binary" is not in the image's PATH (Cmd ["no-such-binary" "--flag"]): check Cmd and Entrypoint, give the full path of the program, or use an image that has it: engine: POST /containers/`,
			`exec: "no-such-binary": executable file not found in $PATH`, true},
		{"no such file", h.Container(busybox).Entrypoint("/no/such").Cmd("x"),
			`start: the container's command "/no/such" does not exist in the image (Entrypoint ["/no/such"], Cmd ["x"]): check Cmd, Entrypoint and the path, or use an image that has the program: engine: `,
			`stat /no/such: no such file or directory`, true},
		{"the image's entrypoint", h.Container(withEntrypoint),
			`start: the container's command "/opt/missing-entrypoint" does not exist in the image (Entrypoint ["/opt/missing-entrypoint"] from the image, Cmd ["serve"] from the image): `,
			`stat /opt/missing-entrypoint: no such file or directory`, true},
		{"not executable", h.Container(busybox).Cmd("/etc/passwd"),
			`start: the container's command "/etc/passwd" is not executable (Cmd ["/etc/passwd"]): check Cmd and Entrypoint, or make the file executable in the image (chmod +x): engine: `,
			`exec: "/etc/passwd": permission denied`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.b.VolumeMount("data", "/data").StartE(ctx)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), tt.cause, "the runtime's text is kept")
			var se *container.StartError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, "start", se.Step)
			var ce *container.CommandError
			require.ErrorAs(t, err, &ce)
			var api *wire.APIError
			assert.ErrorAs(t, err, &api, "the engine's error is the cause")
			if tt.notFound {
				assert.ErrorIs(t, err, container.ErrCommandNotFound)
			} else {
				assert.NotErrorIs(t, err, container.ErrCommandNotFound)
			}
		})
	}
	assertNothingLeft(t, h)
}

// A strategy that can never succeed is refused before anything exists, as
// bad builder input, with its own typed error, worded once.
func TestInvalidWaitStrategyIsRefusedBeforeCreate(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	tests := []struct {
		name string
		s    wait.Strategy
		want string
	}{
		{"http without port", wait.ForHTTP("/healthz"), `WaitFor: ForHTTP("/healthz"): no container port to probe: add .Port("8080/tcp")`},
		{"http bad port", wait.ForHTTP("/healthz").Port("http"), `WaitFor: ForHTTP("/healthz").Port("http"): want a port number from 1 to 65535 with an optional /tcp, like "5432/tcp"`},
		{"http path", wait.ForHTTP("healthz").Port("8080/tcp"), `WaitFor: ForHTTP("healthz"): the path must start with "/": ForHTTP("/healthz")`},
		{"udp port", wait.ForListeningPort("53/udp"), `WaitFor: ForListeningPort("53/udp"): only tcp ports can be waited for`},
		{"sql driver", wait.ForSQL("5432/tcp", "nodriver", func(string, int) string { return "" }), `WaitFor: ForSQL("5432/tcp", "nodriver", dsn): database/sql driver "nodriver" is not registered: import its package`},
		{"exec without command", wait.ForExec(), `WaitFor: ForExec(): no command`},
		{"inside All", wait.All(wait.ForLog("ready"), wait.ForHTTP("/x")), `WaitFor: All(...): strategy 2 of 2: ForHTTP("/x"): no container port to probe`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var created []string
			// Through the builder and through container.Run: neither
			// creates anything.
			_, err := h.Container(busybox).Cmd("sleep", "3600").WaitFor(tt.s).StartE(ctx)
			_, runErr := container.Run(ctx, h.Engine(), container.Spec{Image: busybox, Cmd: []string{"sleep", "3600"}, WaitFor: tt.s}, container.RunOptions{
				Labels:  map[string]string{engine.LabelSession: h.Session().ID(), engine.LabelTest: t.Name()},
				Created: func(kind engine.Kind, id string) { created = append(created, string(kind)+" "+id) },
			})
			assert.Empty(t, created)
			for _, err := range []error{err, runErr} {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.want)
				assert.ErrorIs(t, err, container.ErrInvalidSpec)
				assert.ErrorIs(t, err, wait.ErrInvalidStrategy)
				var se *wait.StrategyError
				assert.ErrorAs(t, err, &se)
				var start *container.StartError
				assert.False(t, errors.As(err, &start), "refused before the create: %v", err)
			}
		})
	}
	assertNothingLeft(t, h)
}

// An image given by ID is named by its short ID, as docker shows it.
func TestImageIDIsShortInErrors(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	img, err := testenv.Wire(h.Engine()).ImageInspect(t.Context(), busybox)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(img.ID, "sha256:") && len(img.ID) == 71, img.ID)
	short := img.ID[:len("sha256:")+12]

	_, err = h.Container(img.ID).Cmd("sh", "-c", "exit 3").WaitFor(wait.ForLog("never")).StartE(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "container "+short+" (")
	assert.NotContains(t, err.Error(), img.ID)

	c := h.Container(img.ID).Cmd("sleep", "3600").Start()
	assert.Equal(t, short+" ("+c.ID()[:12]+")", c.String())
	assert.Equal(t, img.ID, c.Image(), "the handle keeps the full ID")
}

func TestShortImage(t *testing.T) {
	id := "ecd46aaae42f33fb0123456789abcdef0123456789abcdef0123456789abcdef"
	for in, want := range map[string]string{
		"sha256:" + id:                    "sha256:ecd46aaae42f",
		id:                                "ecd46aaae42f",
		"busybox:1.36":                    "busybox:1.36",
		"sha256:" + id[:12]:               "sha256:" + id[:12],
		"sha256:" + strings.ToUpper(id):   "sha256:" + strings.ToUpper(id),
		"localhost:5000/app@sha256:" + id: "localhost:5000/app@sha256:" + id,
	} {
		assert.Equal(t, want, container.ShortImage(in), in)
	}
}
