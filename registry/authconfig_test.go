package registry

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testPassword      = "pa55-w0rd-SECRET"
	testIdentityToken = "identity-TOKEN-secret"
	testRegistryToken = "registry-TOKEN-secret"
)

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// assertNoSecret fails when s contains any of the test secrets.
func assertNoSecret(t *testing.T, s string, extra ...string) {
	t.Helper()
	for _, secret := range append([]string{testPassword, testIdentityToken, testRegistryToken, basicAuth("ci", testPassword)}, extra...) {
		assert.NotContains(t, s, secret, "output leaks a secret")
	}
}

func TestAuthConfigNeverPrintsSecrets(t *testing.T) {
	a := AuthConfig{
		Username:      "ci",
		Password:      testPassword,
		Auth:          basicAuth("ci", testPassword),
		Email:         "ci@example.com",
		ServerAddress: "localhost:5000",
		IdentityToken: testIdentityToken,
		RegistryToken: testRegistryToken,
	}
	type wrapper struct {
		Name string
		Auth AuthConfig
	}
	outputs := map[string]string{
		"String":   a.String(),
		"GoString": a.GoString(),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"} {
		outputs[verb] = fmt.Sprintf(verb, a)
		outputs[verb+" pointer"] = fmt.Sprintf(verb, &a)
		outputs[verb+" in struct"] = fmt.Sprintf(verb, wrapper{"x", a})
		outputs[verb+" in slice"] = fmt.Sprintf(verb, []AuthConfig{a})
		outputs[verb+" in map"] = fmt.Sprintf(verb, map[string]AuthConfig{"h": a})
	}
	outputs["Sprint"] = fmt.Sprint(a)
	outputs["Sprintln"] = fmt.Sprintln(a, &a)
	outputs["Errorf"] = fmt.Errorf("login with %v failed", a).Error()

	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("auth", "cfg", a)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("auth", "cfg", a, "ptr", &a)
	outputs["slog"] = logs.String()

	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			assertNoSecret(t, out)
		})
	}
	assert.Equal(t, `AuthConfig{serveraddress: "localhost:5000", username: "ci", email: "ci@example.com", password: [redacted], auth: [redacted], identitytoken: [redacted], registrytoken: [redacted]}`, a.String())
	assert.Equal(t, "registry."+a.String(), fmt.Sprintf("%#v", a))
	assert.Equal(t, "AuthConfig{anonymous}", AuthConfig{}.String())
	assert.Contains(t, logs.String(), `username: \"ci\"`)
}

func TestAuthConfigIsAnonymous(t *testing.T) {
	tests := []struct {
		name string
		a    AuthConfig
		want bool
	}{
		{"zero", AuthConfig{}, true},
		{"address and email only", AuthConfig{ServerAddress: "h", Email: "e"}, true},
		{"username", AuthConfig{Username: "u"}, false},
		{"password", AuthConfig{Password: "p"}, false},
		{"auth", AuthConfig{Auth: "dTpw"}, false},
		{"identity token", AuthConfig{IdentityToken: "t"}, false},
		{"registry token", AuthConfig{RegistryToken: "t"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.a.IsAnonymous())
		})
	}
}

func TestDecodeAuth(t *testing.T) {
	tests := []struct {
		name, in, user, pass, errPart string
	}{
		{"empty", "", "", "", ""},
		{"plain", basicAuth("ci", testPassword), "ci", testPassword, ""},
		{"colon in password", basicAuth("ci", "a:b:c"), "ci", "a:b:c", ""},
		{"empty password", basicAuth("ci", ""), "ci", "", ""},
		{"unpadded", strings.TrimRight(basicAuth("ab", "c"), "="), "ab", "c", ""},
		{"surrounding space", " " + basicAuth("ci", "x") + "\n", "ci", "x", ""},
		{"trailing NULs", base64.StdEncoding.EncodeToString([]byte("ci:x\x00\x00")), "ci", "x", ""},
		{"not base64", "%%%" + testPassword, "", "", "not base64"},
		{"no colon", base64.StdEncoding.EncodeToString([]byte(testPassword)), "", "", "not user:password"},
		{"empty user", basicAuth("", testPassword), "", "", "not user:password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, pass, err := DecodeAuth(tt.in)
			if tt.errPart != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrInvalidAuth)
				assert.Contains(t, err.Error(), tt.errPart)
				assertNoSecret(t, err.Error(), tt.in)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.user, user)
			assert.Equal(t, tt.pass, pass)
		})
	}
}

// decodeHeader reverses a header encoding the way the engine does.
func decodeHeader(t *testing.T, h string, v any) {
	t.Helper()
	raw, err := base64.URLEncoding.DecodeString(h)
	require.NoError(t, err, "header must be padded base64url")
	require.NoError(t, json.Unmarshal(raw, v))
}

func TestEncodeAuthHeader(t *testing.T) {
	tests := []struct {
		name string
		in   AuthConfig
		want map[string]string
	}{
		{"anonymous", AuthConfig{}, map[string]string{}},
		{"password", AuthConfig{Username: "ci", Password: testPassword, ServerAddress: "localhost:5000"},
			map[string]string{"username": "ci", "password": testPassword, "serveraddress": "localhost:5000"}},
		{"auth decoded", AuthConfig{Auth: basicAuth("ci", testPassword), ServerAddress: "localhost:5000"},
			map[string]string{"username": "ci", "password": testPassword, "serveraddress": "localhost:5000"}},
		{"auth kept beside username", AuthConfig{Username: "ci", Password: "p", Auth: "eDp5"},
			map[string]string{"username": "ci", "password": "p", "auth": "eDp5"}},
		{"identity token", AuthConfig{IdentityToken: testIdentityToken, ServerAddress: HubAuthKey},
			map[string]string{"identitytoken": testIdentityToken, "serveraddress": HubAuthKey}},
		{"registry token and email", AuthConfig{RegistryToken: testRegistryToken, Email: "e@x"},
			map[string]string{"registrytoken": testRegistryToken, "email": "e@x"}},
		// "??>" encodes to "Pz8+" in standard base64: the header must use '-' and '_'.
		{"url alphabet", AuthConfig{Username: "u", Password: "??>??>??>"},
			map[string]string{"username": "u", "password": "??>??>??>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := EncodeAuthHeader(tt.in)
			require.NoError(t, err)
			assert.NotContains(t, h, "+")
			assert.NotContains(t, h, "/")
			got := map[string]string{}
			decodeHeader(t, h, &got)
			assert.Equal(t, tt.want, got)
		})
	}
	h, err := EncodeAuthHeader(AuthConfig{})
	require.NoError(t, err)
	assert.Equal(t, "e30=", h, "anonymous is {}")

	_, err = EncodeAuthHeader(AuthConfig{Auth: "!!" + testPassword, ServerAddress: "localhost:5000"})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalidAuth)
	assert.Contains(t, err.Error(), "localhost:5000")
	assertNoSecret(t, err.Error())
}

func TestEncodeConfigHeader(t *testing.T) {
	h, err := EncodeConfigHeader(map[string]AuthConfig{
		"docker.io":                    {Username: "hubuser", Password: testPassword},
		"https://localhost:5000/v1/":   {Auth: basicAuth("ci", testPassword)},
		"ghcr.io":                      {IdentityToken: testIdentityToken, ServerAddress: "ghcr.io"},
		"anonymous.example.com":        {},
		"registry.example.com:8443/v2": {RegistryToken: testRegistryToken},
	})
	require.NoError(t, err)
	var got map[string]AuthConfig
	decodeHeader(t, h, &got)
	assert.Equal(t, map[string]AuthConfig{
		HubAuthKey:                  {Username: "hubuser", Password: testPassword, ServerAddress: HubAuthKey},
		"localhost:5000":            {Username: "ci", Password: testPassword, ServerAddress: "localhost:5000"},
		"ghcr.io":                   {IdentityToken: testIdentityToken, ServerAddress: "ghcr.io"},
		"registry.example.com:8443": {RegistryToken: testRegistryToken, ServerAddress: "registry.example.com:8443"},
	}, got)

	empty, err := EncodeConfigHeader(nil)
	require.NoError(t, err)
	assert.Equal(t, "e30=", empty)

	_, err = EncodeConfigHeader(map[string]AuthConfig{"localhost:5000": {Auth: "!!" + testPassword}})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrInvalidAuth))
	assertNoSecret(t, err.Error())
}

func FuzzDecodeAuth(f *testing.F) {
	f.Add(basicAuth("ci", "secret"), "ci", "secret")
	f.Add("", "u", "")
	f.Add("!!!", "a:b", "c")
	f.Add("dXNlcg==", "user", "pa:ss")
	f.Add(`{"auths":{"localhost:5000":{"auth":"Y2k6c2VjcmV0"}},"credsStore":"pass"}`, "x", "y")
	f.Add(`{"auths":{"h":{"password":12}}}`, "x", "y")
	f.Add(`{"auths":{"h":{"password":topsecret}}}`, "x", "y")
	f.Fuzz(func(t *testing.T, data, user, pass string) {
		// Round trip: what the CLI writes, DecodeAuth reads back.
		if user != "" && !strings.Contains(user, ":") {
			u, p, err := DecodeAuth(basicAuth(user, pass))
			if err != nil {
				t.Fatalf("decode of a valid auth field failed: %v", err)
			}
			if u != user || p != strings.Trim(pass, "\x00") {
				t.Fatalf("round trip gave %q:%q, want %q:%q", u, p, user, pass)
			}
		}

		// Arbitrary input: errors are typed and never quote it.
		if _, _, err := DecodeAuth(data); err != nil {
			if !errors.Is(err, ErrInvalidAuth) {
				t.Fatalf("error %v does not match ErrInvalidAuth", err)
			}
			if len(data) >= 16 && strings.Contains(err.Error(), data) {
				t.Fatalf("error quotes its input: %v", err)
			}
		}

		// As config.json content.
		cfg, err := parseConfig([]byte(data), "/cfg/config.json")
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "/cfg/config.json") {
				t.Fatalf("config error is untyped or does not name the file: %v", err)
			}
			if len(data) >= 16 && strings.Contains(err.Error(), data) {
				t.Fatalf("config error quotes the content: %v", err)
			}
		} else {
			for key, a := range cfg.Auths {
				if a.Username == "" && a.Auth != "" {
					t.Fatalf("auths[%q].auth left undecoded", key)
				}
			}
		}

		// A secret placed in a config entry never reaches an error.
		if len(pass) >= 12 {
			doc, _ := json.Marshal(map[string]any{"auths": map[string]any{"h": map[string]string{"auth": data, "password": pass}}})
			for _, content := range [][]byte{doc, doc[:len(doc)-1], append(doc[:len(doc):len(doc)], '}')} {
				if _, err := parseConfig(content, "/cfg/config.json"); err != nil && strings.Contains(err.Error(), pass) {
					t.Fatalf("config error leaks the password: %v", err)
				}
			}
		}
	})
}
