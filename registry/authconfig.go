package registry

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// ErrInvalidAuth is matched (errors.Is) when an "auth" field is not base64
// of "user:password".
var ErrInvalidAuth = errors.New("invalid auth field")

// AuthConfig holds credentials for one registry, with the Engine API's JSON
// field names (the X-Registry-Auth payload and a config.json auths entry).
//
// Printing an AuthConfig in any way (String, GoString, every fmt verb, slog)
// shows only the user name, e-mail, server address and which secrets are
// set, never their values. Only EncodeAuthHeader and EncodeConfigHeader
// produce the secrets, for the engine.
type AuthConfig struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// Auth is base64("user:password") as config.json stores it. Resolve
	// and the header encoders decode it into Username and Password when
	// Username is empty.
	Auth          string `json:"auth,omitempty"`
	Email         string `json:"email,omitempty"`
	ServerAddress string `json:"serveraddress,omitempty"`
	// IdentityToken is an OAuth refresh token the registry exchanges for
	// access tokens; a credential helper returns it with user "<token>".
	IdentityToken string `json:"identitytoken,omitempty"`
	// RegistryToken is a bearer token sent to the registry as is.
	RegistryToken string `json:"registrytoken,omitempty"`
}

// IsAnonymous reports whether a carries no credentials at all.
func (a AuthConfig) IsAnonymous() bool {
	return a.Username == "" && a.Password == "" && a.Auth == "" && a.IdentityToken == "" && a.RegistryToken == ""
}

// String describes a without its secrets, e.g.
// AuthConfig{serveraddress: "localhost:5000", username: "ci", password: [redacted]}.
func (a AuthConfig) String() string {
	var b strings.Builder
	b.WriteString("AuthConfig{")
	sep := ""
	field := func(name, value string) {
		b.WriteString(sep + name + ": " + value)
		sep = ", "
	}
	if a.ServerAddress != "" {
		field("serveraddress", fmt.Sprintf("%q", a.ServerAddress))
	}
	if a.Username != "" {
		field("username", fmt.Sprintf("%q", a.Username))
	}
	if a.Email != "" {
		field("email", fmt.Sprintf("%q", a.Email))
	}
	for _, s := range []struct{ name, value string }{
		{"password", a.Password}, {"auth", a.Auth}, {"identitytoken", a.IdentityToken}, {"registrytoken", a.RegistryToken},
	} {
		if s.value != "" {
			field(s.name, "[redacted]")
		}
	}
	if sep == "" {
		b.WriteString("anonymous")
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String, so %#v does not print secrets either.
func (a AuthConfig) GoString() string { return "registry." + a.String() }

// Format prints the redacted String for every verb.
func (a AuthConfig) Format(f fmt.State, verb rune) {
	s := a.String()
	switch verb {
	case 'q':
		s = fmt.Sprintf("%q", s)
	case 'v':
		if f.Flag('#') {
			s = a.GoString()
		}
	}
	_, _ = f.Write([]byte(s))
}

// LogValue keeps secrets out of log/slog output.
func (a AuthConfig) LogValue() slog.Value { return slog.StringValue(a.String()) }

var _ slog.LogValuer = AuthConfig{}

// DecodeAuth decodes a config.json "auth" field, base64("user:password"),
// into its user name and password. An empty field gives empty strings.
// Errors match ErrInvalidAuth and never contain the field's content.
func DecodeAuth(auth string) (username, password string, err error) {
	auth = strings.TrimSpace(auth)
	if auth == "" {
		return "", "", nil
	}
	raw, err := base64.StdEncoding.DecodeString(auth)
	if err != nil {
		// Some tools write it without padding.
		var rawErr error
		raw, rawErr = base64.RawStdEncoding.DecodeString(strings.TrimRight(auth, "="))
		if rawErr != nil {
			var ce base64.CorruptInputError
			if errors.As(err, &ce) {
				return "", "", fmt.Errorf("%w: not base64 (bad byte at offset %d): it must be base64 of user:password", ErrInvalidAuth, int64(ce))
			}
			return "", "", fmt.Errorf("%w: not base64: it must be base64 of user:password", ErrInvalidAuth)
		}
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok || user == "" {
		return "", "", fmt.Errorf("%w: the decoded value is not user:password with a non-empty user", ErrInvalidAuth)
	}
	return user, strings.Trim(pass, "\x00"), nil
}

// decoded returns a with Auth decoded into Username and Password when
// Username is empty, and Auth cleared in that case.
func (a AuthConfig) decoded() (AuthConfig, error) {
	if a.Auth == "" || a.Username != "" {
		return a, nil
	}
	user, pass, err := DecodeAuth(a.Auth)
	if err != nil {
		return AuthConfig{}, err
	}
	a.Username, a.Password, a.Auth = user, pass, ""
	return a, nil
}

// EncodeAuthHeader returns the X-Registry-Auth header value for a: the
// base64url encoding of its JSON, as the engine expects for pull, push and
// create. An "auth" field is decoded first (see AuthConfig.Auth). An
// anonymous AuthConfig encodes to the value of "{}".
func EncodeAuthHeader(a AuthConfig) (string, error) {
	d, err := a.decoded()
	if err != nil {
		return "", fmt.Errorf("registry: encode X-Registry-Auth for %q: %w", a.ServerAddress, err)
	}
	return encodeHeader(d)
}

// EncodeConfigHeader returns the X-Registry-Config header value for a build:
// the base64url encoding of a JSON map from registry key to AuthConfig.
// Keys are normalised with AuthKey (Docker Hub becomes HubAuthKey), which is
// how the engine looks them up; anonymous entries are left out.
func EncodeConfigHeader(configs map[string]AuthConfig) (string, error) {
	out := make(map[string]AuthConfig, len(configs))
	for key, a := range configs {
		d, err := a.decoded()
		if err != nil {
			return "", fmt.Errorf("registry: encode X-Registry-Config entry %q: %w", key, err)
		}
		if d.IsAnonymous() {
			continue
		}
		k := AuthKey(key)
		if d.ServerAddress == "" {
			d.ServerAddress = k
		}
		out[k] = d
	}
	return encodeHeader(out)
}

func encodeHeader(v any) (string, error) {
	buf, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("registry: encode header: %w", err)
	}
	return base64.URLEncoding.EncodeToString(buf), nil
}
