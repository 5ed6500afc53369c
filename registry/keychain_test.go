package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hermeticDocker points DOCKER_CONFIG at an empty directory, clears
// DOCKER_AUTH_CONFIG and returns the config.json path.
func hermeticDocker(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv(EnvAuthConfig, "")
	return filepath.Join(dir, "config.json")
}

// jsonText marshals v, or returns it unchanged when it is a string.
func jsonText(t *testing.T, v any) string {
	t.Helper()
	if s, ok := v.(string); ok {
		return s
	}
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}

func writeConfig(t *testing.T, path string, v any) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(jsonText(t, v)), 0o600))
}

type obj = map[string]any

// pathMarker stands for the config.json path, which differs per test, in
// the Source and its words a case expects.
const pathMarker = "<config.json>"

// resolved is what Resolve should answer for a case.
type resolved struct {
	auth   AuthConfig
	source Source
	text   string // Source.String with pathMarker for the path
}

func anonymousAt(key string) resolved {
	return resolved{AuthConfig{}, Source{Kind: SourceAnonymous, Key: key}, "anonymous"}
}

// fromAuths is an answer from the auths of config (pathMarker or EnvAuthConfig).
func fromAuths(config, key string, auth AuthConfig) resolved {
	text := "config.json auths (<config.json>)"
	if config == EnvAuthConfig {
		text = "DOCKER_AUTH_CONFIG auths"
	}
	return resolved{auth, Source{Kind: SourceAuths, Config: config, Key: key}, text}
}

// fromTestHelper is an answer from the test helper named by kind in config.
func fromTestHelper(kind SourceKind, config, key string, auth AuthConfig, text string) resolved {
	return resolved{auth, Source{Kind: kind, Config: config, Helper: "docker-credential-berthtest", Key: key}, text}
}

// userAt is the credentials of user with testPassword, as found under server.
func userAt(user, server string) AuthConfig {
	return AuthConfig{Username: user, Password: testPassword, ServerAddress: server}
}

// resolveCase is one DefaultKeychain lookup in a hermetic Docker config.
type resolveCase struct {
	name  string
	file  any // config.json content; nil means no file
	env   any // DOCKER_AUTH_CONFIG; nil means unset
	host  string
	want  resolved
	calls []string // test helper invocations; only checked with a helper
}

// testResolve runs each case against DefaultKeychain, with the test helper
// on PATH holding stored unless stored is nil.
func testResolve(t *testing.T, stored map[string]helperCredentials, tests []resolveCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := hermeticDocker(t)
			var helper testHelperEnv
			if stored != nil {
				helper = useTestHelper(t, stored)
			}
			if tt.file != nil {
				writeConfig(t, path, tt.file)
			}
			if tt.env != nil {
				t.Setenv(EnvAuthConfig, jsonText(t, tt.env))
			}
			got, src, err := DefaultKeychain().Resolve(t.Context(), tt.host)
			require.NoError(t, err)
			assert.Equal(t, tt.want.auth, got)
			want := tt.want.source
			if want.Config == pathMarker {
				want.Config = path
			}
			assert.Equal(t, want, src)
			src.Config = replaceIf(src.Config, path, pathMarker)
			assert.Equal(t, tt.want.text, src.String())
			assertNoSecret(t, src.String())
			if stored != nil {
				assert.Equal(t, tt.calls, helper.calls(t))
			}
		})
	}
}

func TestDefaultKeychainConfigAuths(t *testing.T) {
	ci := obj{"auth": basicAuth("ci", testPassword)}
	hub := obj{"auth": basicAuth("hubuser", testPassword)}
	testResolve(t, nil, []resolveCase{
		{"no config file is anonymous", nil, nil, "localhost:5000", anonymousAt("localhost:5000"), nil},
		{"empty file is anonymous", "  \n", nil, "localhost:5000", anonymousAt("localhost:5000"), nil},
		{"auth field decoded", obj{"auths": obj{"localhost:5000": ci}}, nil, "localhost:5000", fromAuths(pathMarker, "localhost:5000", userAt("ci", "localhost:5000")), nil},
		{
			name: "username and password fields",
			file: obj{"auths": obj{"localhost:5000": obj{"username": "ci", "password": testPassword, "email": "ci@x"}}},
			host: "localhost:5000",
			want: fromAuths(pathMarker, "localhost:5000", AuthConfig{Username: "ci", Password: testPassword, Email: "ci@x", ServerAddress: "localhost:5000"}),
		},
		{"key written as URL", obj{"auths": obj{"https://localhost:5000/v1/": ci}}, nil, "localhost:5000", fromAuths(pathMarker, "localhost:5000", userAt("ci", "https://localhost:5000/v1/")), nil},
		{"key written as http URL, host given as URL", obj{"auths": obj{"http://registry.example.com": ci}}, nil, "https://registry.example.com/v2/", fromAuths(pathMarker, "registry.example.com", userAt("ci", "http://registry.example.com")), nil},
		{"key with trailing slash", obj{"auths": obj{"registry.example.com/": ci}}, nil, "registry.example.com", fromAuths(pathMarker, "registry.example.com", userAt("ci", "registry.example.com/")), nil},
		{
			name: "exact key wins over a URL key",
			file: obj{"auths": obj{
				"http://localhost:5000": obj{"auth": basicAuth("url", "x")},
				"localhost:5000":        obj{"auth": basicAuth("exact", "y")},
			}},
			host: "localhost:5000",
			want: fromAuths(pathMarker, "localhost:5000", AuthConfig{Username: "exact", Password: "y", ServerAddress: "localhost:5000"}),
		},
		{"docker hub key for docker.io", obj{"auths": obj{HubAuthKey: hub}}, nil, "docker.io", fromAuths(pathMarker, HubAuthKey, userAt("hubuser", HubAuthKey)), nil},
		{"docker hub key for registry-1.docker.io", obj{"auths": obj{HubAuthKey: hub}}, nil, "registry-1.docker.io", fromAuths(pathMarker, HubAuthKey, userAt("hubuser", HubAuthKey)), nil},
		{"hub written as index.docker.io", obj{"auths": obj{"index.docker.io": hub}}, nil, "docker.io", fromAuths(pathMarker, HubAuthKey, userAt("hubuser", "index.docker.io")), nil},
		{
			name: "identity token",
			file: obj{"auths": obj{"localhost:5000": obj{"identitytoken": testIdentityToken}}},
			host: "localhost:5000",
			want: fromAuths(pathMarker, "localhost:5000", AuthConfig{IdentityToken: testIdentityToken, ServerAddress: "localhost:5000"}),
		},
		{"other host is anonymous", obj{"auths": obj{"localhost:5000": ci}}, nil, "localhost:5001", anonymousAt("localhost:5001"), nil},
		{"empty entry left by docker login with a store is anonymous", obj{"auths": obj{"localhost:5000": obj{}}}, nil, "localhost:5000", anonymousAt("localhost:5000"), nil},
		{
			name: "DOCKER_AUTH_CONFIG wins over the file",
			file: obj{"auths": obj{"localhost:5000": obj{"auth": basicAuth("file", "f")}}},
			env:  obj{"auths": obj{"localhost:5000": obj{"auth": basicAuth("env", testPassword)}}},
			host: "localhost:5000",
			want: fromAuths(EnvAuthConfig, "localhost:5000", userAt("env", "localhost:5000")),
		},
		{
			name: "DOCKER_AUTH_CONFIG without the host falls back to the file",
			file: obj{"auths": obj{"localhost:5000": obj{"auth": basicAuth("file", testPassword)}}},
			env:  obj{"auths": obj{"other:5000": obj{"auth": basicAuth("env", "e")}}},
			host: "localhost:5000",
			want: fromAuths(pathMarker, "localhost:5000", userAt("file", "localhost:5000")),
		},
		{"DOCKER_AUTH_CONFIG alone", nil, obj{"auths": obj{HubAuthKey: hub}}, "docker.io", fromAuths(EnvAuthConfig, HubAuthKey, userAt("hubuser", HubAuthKey)), nil},
	})
}

func replaceIf(s, old, repl string) string {
	if s == old {
		return repl
	}
	return s
}

func TestDefaultKeychainBrokenConfig(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		env      string
		dir      bool // config.json is a directory
		origin   string
		is       error
		contains []string
	}{
		{
			name:     "syntax error",
			file:     `{"auths": {"localhost:5000": {"password": ` + testPassword + `}}}`,
			contains: []string{"invalid JSON at line 1, column 43", "fix or remove the file"},
		},
		{
			name:     "truncated file",
			file:     "{\n  \"auths\": {\"localhost:5000\": {\"password\": \"" + testPassword + "\"",
			contains: []string{"invalid JSON at line 2"},
		},
		{
			name:     "wrong type",
			file:     `{"auths": {"localhost:5000": {"username": "ci", "password": 12345}}}`,
			contains: []string{"password must not be a JSON number"},
		},
		{
			name:     "auths is not an object",
			file:     `{"auths": ["` + testPassword + `"]}`,
			contains: []string{"auths must not be a JSON array"},
		},
		{
			name:     "invalid auth field",
			file:     `{"auths": {"localhost:5000": {"auth": "!!` + testPassword + `"}}}`,
			is:       ErrInvalidAuth,
			contains: []string{`auths["localhost:5000"].auth: invalid auth field`, "not base64"},
		},
		{
			name:     "auth without colon",
			file:     `{"auths": {"localhost:5000": {"auth": "` + base64.StdEncoding.EncodeToString([]byte("nocolon")) + `"}}}`,
			is:       ErrInvalidAuth,
			contains: []string{"not user:password"},
		},
		{
			name:     "config.json is a directory",
			dir:      true,
			contains: []string{"cannot be read", "is a directory"},
		},
		{
			name:     "broken DOCKER_AUTH_CONFIG",
			env:      `{"auths": {"localhost:5000": {"auth": "` + basicAuth("ci", testPassword) + `"`,
			origin:   EnvAuthConfig,
			contains: []string{"docker config DOCKER_AUTH_CONFIG", "invalid JSON", "fix or unset the variable"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := hermeticDocker(t)
			switch {
			case tt.dir:
				require.NoError(t, os.Mkdir(path, 0o700))
			case tt.file != "":
				writeConfig(t, path, tt.file)
			}
			if tt.env != "" {
				t.Setenv(EnvAuthConfig, tt.env)
			}
			_, _, err := DefaultKeychain().Resolve(t.Context(), "localhost:5000")
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			var ce *ConfigError
			require.True(t, errors.As(err, &ce))
			origin := tt.origin
			if origin == "" {
				origin = path
			}
			assert.Equal(t, origin, ce.Origin)
			assert.Contains(t, err.Error(), origin)
			for _, c := range tt.contains {
				assert.Contains(t, err.Error(), c)
			}
			assertNoSecret(t, err.Error())
		})
	}
}

func TestDefaultKeychainCredentialHelpers(t *testing.T) {
	stored := map[string]helperCredentials{
		"localhost:5000": {ServerURL: "localhost:5000", Username: "ci", Secret: testPassword},
		HubAuthKey:       {ServerURL: HubAuthKey, Username: "hubuser", Secret: testPassword},
		"token.example":  {ServerURL: "token.example", Username: "<token>", Secret: testIdentityToken},
	}
	const (
		storeText   = "credential helper docker-credential-berthtest (credsStore in <config.json>)"
		helpersText = "credential helper docker-credential-berthtest (credHelpers in <config.json>)"
	)
	store := obj{"credsStore": testHelperName}
	getLocal := []string{"get localhost:5000"}
	testResolve(t, stored, []resolveCase{
		{"credsStore", obj{"credsStore": testHelperName, "auths": obj{"localhost:5000": obj{}}}, nil, "localhost:5000", fromTestHelper(SourceCredsStore, pathMarker, "localhost:5000", userAt("ci", "localhost:5000"), storeText), getLocal},
		{"credsStore asked with the hub key", store, nil, "docker.io", fromTestHelper(SourceCredsStore, pathMarker, HubAuthKey, userAt("hubuser", HubAuthKey), storeText), []string{"get " + HubAuthKey}},
		{"credHelpers for the host", obj{"credHelpers": obj{"localhost:5000": testHelperName}}, nil, "localhost:5000", fromTestHelper(SourceCredHelpers, pathMarker, "localhost:5000", userAt("ci", "localhost:5000"), helpersText), getLocal},
		{"credHelpers key written as URL", obj{"credHelpers": obj{"https://localhost:5000": testHelperName}}, nil, "localhost:5000", fromTestHelper(SourceCredHelpers, pathMarker, "localhost:5000", userAt("ci", "localhost:5000"), helpersText), getLocal},
		{
			name: "credHelpers wins over credsStore and auths",
			file: obj{
				"credHelpers": obj{"localhost:5000": testHelperName},
				"credsStore":  "berth-missing-helper",
				"auths":       obj{"localhost:5000": obj{"auth": basicAuth("file", "f")}},
			},
			host:  "localhost:5000",
			want:  fromTestHelper(SourceCredHelpers, pathMarker, "localhost:5000", userAt("ci", "localhost:5000"), helpersText),
			calls: getLocal,
		},
		{"credHelpers for another host is not asked", obj{"credHelpers": obj{"localhost:5000": testHelperName}}, nil, "ghcr.io", anonymousAt("ghcr.io"), nil},
		{"identity token from a helper", store, nil, "token.example", fromTestHelper(SourceCredsStore, pathMarker, "token.example", AuthConfig{IdentityToken: testIdentityToken, ServerAddress: "token.example"}, storeText), []string{"get token.example"}},
		{"helper without the host is anonymous", store, nil, "ghcr.io", anonymousAt("ghcr.io"), []string{"get ghcr.io"}},
		{
			name:  "helper without the host falls back to auths",
			file:  obj{"credsStore": testHelperName, "auths": obj{"ghcr.io": obj{"auth": basicAuth("gh", testPassword)}}},
			host:  "ghcr.io",
			want:  fromAuths(pathMarker, "ghcr.io", userAt("gh", "ghcr.io")),
			calls: []string{"get ghcr.io"},
		},
		{
			name: "DOCKER_AUTH_CONFIG auths come before the file's helper",
			file: store,
			env:  obj{"auths": obj{"localhost:5000": obj{"auth": basicAuth("env", testPassword)}}},
			host: "localhost:5000",
			want: fromAuths(EnvAuthConfig, "localhost:5000", userAt("env", "localhost:5000")),
		},
		{
			name:  "DOCKER_AUTH_CONFIG may name a helper",
			env:   obj{"credHelpers": obj{"localhost:5000": testHelperName}},
			host:  "localhost:5000",
			want:  fromTestHelper(SourceCredHelpers, EnvAuthConfig, "localhost:5000", userAt("ci", "localhost:5000"), "credential helper docker-credential-berthtest (credHelpers in DOCKER_AUTH_CONFIG)"),
			calls: getLocal,
		},
	})
}

func TestDefaultKeychainHelperErrors(t *testing.T) {
	tests := []struct {
		name     string
		file     any
		mode     string
		is       error
		contains []string
	}{
		{
			name:     "credsStore helper not installed",
			file:     obj{"credsStore": "berth-missing-helper"},
			is:       ErrHelperNotInstalled,
			contains: []string{"docker-credential-berth-missing-helper is not on PATH", "install it", "credsStore in "},
		},
		{
			name:     "credHelpers helper not installed",
			file:     obj{"credHelpers": obj{"localhost:5000": "berth-missing-helper"}},
			is:       ErrHelperNotInstalled,
			contains: []string{"not on PATH", "credHelpers in "},
		},
		{
			name:     "helper fails",
			file:     obj{"credsStore": testHelperName},
			mode:     "fail",
			contains: []string{"docker-credential-berthtest get", "credsStore in ", "in a shell"},
		},
		{
			name:     "helper answers garbage",
			file:     obj{"credsStore": testHelperName},
			mode:     "garbage",
			contains: []string{"not the expected JSON"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := hermeticDocker(t)
			useTestHelper(t, nil)
			t.Setenv("BERTH_TEST_HELPER_MODE", tt.mode)
			t.Setenv("BERTH_TEST_HELPER_GARBAGE", testPassword)
			writeConfig(t, path, tt.file)
			_, src, err := DefaultKeychain().Resolve(t.Context(), "localhost:5000")
			require.Error(t, err)
			var he *HelperError
			require.True(t, errors.As(err, &he), "want *HelperError, got %T", err)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			assert.Contains(t, err.Error(), path)
			for _, c := range tt.contains {
				assert.Contains(t, err.Error(), c)
			}
			assert.NotEqual(t, SourceAnonymous, src.Kind, "the source names the failing helper")
			assertNoSecret(t, err.Error())
		})
	}
}

func TestExplicitCredentialsComeFirst(t *testing.T) {
	path := hermeticDocker(t)
	helper := useTestHelper(t, map[string]helperCredentials{
		"localhost:5000": {ServerURL: "localhost:5000", Username: "helper", Secret: "h"},
	})
	writeConfig(t, path, obj{"credsStore": testHelperName})
	t.Setenv(EnvAuthConfig, jsonText(t, obj{"auths": obj{"localhost:5000": obj{"auth": basicAuth("env", "e")}}}))

	kc := WithAuth(nil, "http://localhost:5000/", AuthConfig{Username: "explicit", Password: testPassword})
	got, src, err := kc.Resolve(t.Context(), "localhost:5000")
	require.NoError(t, err)
	assert.Equal(t, AuthConfig{Username: "explicit", Password: testPassword, ServerAddress: "localhost:5000"}, got)
	assert.Equal(t, Source{Kind: SourceExplicit, Key: "localhost:5000"}, src)
	assert.Equal(t, "explicit", src.String())
	assert.Empty(t, helper.calls(t), "explicit credentials must not run helpers")

	// Other hosts fall through to the default keychain.
	got, src, err = kc.Resolve(t.Context(), "ghcr.io")
	require.NoError(t, err)
	assert.True(t, got.IsAnonymous())
	assert.Equal(t, SourceAnonymous, src.Kind)
	assert.Equal(t, []string{"get ghcr.io"}, helper.calls(t))

	// Then DOCKER_AUTH_CONFIG, then the helper.
	got, src, err = DefaultKeychain().Resolve(t.Context(), "localhost:5000")
	require.NoError(t, err)
	assert.Equal(t, "env", got.Username)
	assert.Equal(t, SourceAuths, src.Kind)
	t.Setenv(EnvAuthConfig, "")
	got, src, err = DefaultKeychain().Resolve(t.Context(), "localhost:5000")
	require.NoError(t, err)
	assert.Equal(t, "helper", got.Username)
	assert.Equal(t, SourceCredsStore, src.Kind)
}

func TestStaticKeychain(t *testing.T) {
	kc := Static(map[string]AuthConfig{
		"docker.io":          {Auth: basicAuth("hubuser", testPassword)},
		"https://ghcr.io/v2": {IdentityToken: testIdentityToken},
		"broken.example":     {Auth: "!!" + testPassword},
		"empty.example":      {},
	})
	tests := []struct {
		host   string
		want   AuthConfig
		source Source
		errIs  error
	}{
		{"registry-1.docker.io", AuthConfig{Username: "hubuser", Password: testPassword, ServerAddress: HubAuthKey}, Source{Kind: SourceExplicit, Key: HubAuthKey}, nil},
		{"ghcr.io", AuthConfig{IdentityToken: testIdentityToken, ServerAddress: "ghcr.io"}, Source{Kind: SourceExplicit, Key: "ghcr.io"}, nil},
		{"empty.example", AuthConfig{}, Source{Kind: SourceAnonymous, Key: "empty.example"}, nil},
		{"unknown.example", AuthConfig{}, Source{Kind: SourceAnonymous, Key: "unknown.example"}, nil},
		{"broken.example", AuthConfig{}, Source{}, ErrInvalidAuth},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			got, src, err := kc.Resolve(t.Context(), tt.host)
			if tt.errIs != nil {
				require.Error(t, err)
				assert.ErrorIs(t, err, tt.errIs)
				assert.Contains(t, err.Error(), tt.host)
				assertNoSecret(t, err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.source, src)
		})
	}
	hosts, err := KnownHosts(t.Context(), kc)
	require.NoError(t, err)
	assert.Equal(t, []string{"broken.example", "ghcr.io", HubAuthKey}, hosts)
}

type failingKeychain struct{ err error }

func (f failingKeychain) Resolve(context.Context, string) (AuthConfig, Source, error) {
	return AuthConfig{}, Source{}, f.err
}

func TestChain(t *testing.T) {
	boom := errors.New("boom")
	first := Static(map[string]AuthConfig{"a.example": {Username: "first", Password: "1"}})
	second := Static(map[string]AuthConfig{"a.example": {Username: "second", Password: "2"}, "b.example": {Username: "second", Password: "2"}})

	kc := Chain(first, second)
	got, _, err := kc.Resolve(t.Context(), "a.example")
	require.NoError(t, err)
	assert.Equal(t, "first", got.Username)
	got, _, err = kc.Resolve(t.Context(), "b.example")
	require.NoError(t, err)
	assert.Equal(t, "second", got.Username)
	got, src, err := kc.Resolve(t.Context(), "c.example")
	require.NoError(t, err)
	assert.True(t, got.IsAnonymous())
	assert.Equal(t, Source{Kind: SourceAnonymous, Key: "c.example"}, src)

	_, _, err = Chain(first, failingKeychain{boom}, second).Resolve(t.Context(), "b.example")
	assert.ErrorIs(t, err, boom, "an error stops the search")
	got, _, err = Chain(first, failingKeychain{boom}).Resolve(t.Context(), "a.example")
	require.NoError(t, err, "a keychain after the one that answered is not asked")
	assert.Equal(t, "first", got.Username)

	hosts, err := KnownHosts(t.Context(), Chain(first, failingKeychain{boom}, second))
	require.NoError(t, err)
	assert.Equal(t, []string{"a.example", "b.example"}, hosts)
	hosts, err = KnownHosts(t.Context(), failingKeychain{boom})
	require.NoError(t, err)
	assert.Nil(t, hosts)
}

func TestDefaultKeychainHosts(t *testing.T) {
	path := hermeticDocker(t)
	useTestHelper(t, map[string]helperCredentials{
		HubAuthKey:      {ServerURL: HubAuthKey, Username: "hubuser", Secret: testPassword},
		"store.example": {ServerURL: "store.example", Username: "s", Secret: "s"},
	})
	writeConfig(t, path, obj{
		"credsStore":  testHelperName,
		"credHelpers": obj{"helper.example": "other"},
		"auths":       obj{"https://auths.example/v1/": obj{}, "index.docker.io": obj{}},
	})
	t.Setenv(EnvAuthConfig, jsonText(t, obj{"auths": obj{"env.example": obj{"auth": basicAuth("e", "e")}}}))
	hosts, err := KnownHosts(t.Context(), DefaultKeychain())
	require.NoError(t, err)
	assert.Equal(t, []string{"auths.example", "env.example", "helper.example", HubAuthKey, "store.example"}, hosts)

	writeConfig(t, path, obj{"credsStore": "berth-missing-helper"})
	_, err = KnownHosts(t.Context(), DefaultKeychain())
	assert.ErrorIs(t, err, ErrHelperNotInstalled)
}

func TestBuildAuthConfigs(t *testing.T) {
	path := hermeticDocker(t)
	useTestHelper(t, map[string]helperCredentials{
		"localhost:5000": {ServerURL: "localhost:5000", Username: "ci", Secret: testPassword},
	})
	writeConfig(t, path, obj{
		"credHelpers": obj{"localhost:5000": testHelperName},
		"auths":       obj{HubAuthKey: obj{"auth": basicAuth("hubuser", testPassword)}},
	})
	kc := WithAuth(DefaultKeychain(), "ghcr.io", AuthConfig{IdentityToken: testIdentityToken})

	got, err := BuildAuthConfigs(t.Context(), kc, []string{"docker.io", "localhost:5000", "ghcr.io", "public.example", "registry-1.docker.io"})
	require.NoError(t, err)
	assert.Equal(t, map[string]AuthConfig{
		HubAuthKey:       {Username: "hubuser", Password: testPassword, ServerAddress: HubAuthKey},
		"localhost:5000": {Username: "ci", Password: testPassword, ServerAddress: "localhost:5000"},
		"ghcr.io":        {IdentityToken: testIdentityToken, ServerAddress: "ghcr.io"},
	}, got)

	header, err := EncodeConfigHeader(got)
	require.NoError(t, err)
	var decoded map[string]AuthConfig
	decodeHeader(t, header, &decoded)
	assert.Equal(t, got, decoded)

	// Every host the keychain knows.
	all, err := KnownHosts(t.Context(), kc)
	require.NoError(t, err)
	assert.Equal(t, []string{"ghcr.io", HubAuthKey, "localhost:5000"}, all)

	// A failing source is an error naming the host, not a silent omission.
	writeConfig(t, path, obj{"credHelpers": obj{"localhost:5000": "berth-missing-helper"}})
	_, err = BuildAuthConfigs(t.Context(), kc, []string{"localhost:5000"})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrHelperNotInstalled)
	assert.Contains(t, err.Error(), `"localhost:5000"`)
}

func TestConfigPath(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", "/custom/dir")
	assert.Equal(t, filepath.Join("/custom/dir", "config.json"), ConfigPath())
	t.Setenv("DOCKER_CONFIG", "")
	t.Setenv("HOME", "/home/someone")
	assert.Equal(t, filepath.Join("/home/someone", ".docker", "config.json"), ConfigPath())
}
