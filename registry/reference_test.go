package registry

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	hex64  = strings.Repeat("0123456789abcdef", 4)
	hex128 = hex64 + hex64
)

func TestParseReferenceValid(t *testing.T) {
	tests := []struct {
		in       string
		want     Reference
		str      string
		familiar string
		authKey  string
	}{
		{"redis", Reference{"docker.io", "library/redis", "latest", ""}, "docker.io/library/redis:latest", "redis:latest", HubAuthKey},
		{"redis:7-bookworm", Reference{"docker.io", "library/redis", "7-bookworm", ""}, "docker.io/library/redis:7-bookworm", "redis:7-bookworm", HubAuthKey},
		{"user/app", Reference{"docker.io", "user/app", "latest", ""}, "docker.io/user/app:latest", "user/app:latest", HubAuthKey},
		{"docker.io/library/redis:7", Reference{"docker.io", "library/redis", "7", ""}, "docker.io/library/redis:7", "redis:7", HubAuthKey},
		{"docker.io/redis", Reference{"docker.io", "library/redis", "latest", ""}, "docker.io/library/redis:latest", "redis:latest", HubAuthKey},
		{"index.docker.io/redis", Reference{"docker.io", "library/redis", "latest", ""}, "docker.io/library/redis:latest", "redis:latest", HubAuthKey},
		{"library/a/b", Reference{"docker.io", "library/a/b", "latest", ""}, "docker.io/library/a/b:latest", "library/a/b:latest", HubAuthKey},
		{"registry-1.docker.io/library/redis", Reference{"registry-1.docker.io", "library/redis", "latest", ""}, "registry-1.docker.io/library/redis:latest", "registry-1.docker.io/library/redis:latest", HubAuthKey},
		{"localhost/app", Reference{"localhost", "app", "latest", ""}, "localhost/app:latest", "localhost/app:latest", "localhost"},
		{"localhost:5000/app@sha256:" + hex64, Reference{"localhost:5000", "app", "", "sha256:" + hex64}, "localhost:5000/app@sha256:" + hex64, "localhost:5000/app@sha256:" + hex64, "localhost:5000"},
		{"localhost:5000/team/app:1.0@sha256:" + hex64, Reference{"localhost:5000", "team/app", "1.0", "sha256:" + hex64}, "localhost:5000/team/app:1.0@sha256:" + hex64, "localhost:5000/team/app:1.0@sha256:" + hex64, "localhost:5000"},
		{"redis@sha512:" + hex128, Reference{"docker.io", "library/redis", "", "sha512:" + hex128}, "docker.io/library/redis@sha512:" + hex128, "redis@sha512:" + hex128, HubAuthKey},
		{"example.com/a/b/c:Tag_1", Reference{"example.com", "a/b/c", "Tag_1", ""}, "example.com/a/b/c:Tag_1", "example.com/a/b/c:Tag_1", "example.com"},
		{"127.0.0.1:5000/app", Reference{"127.0.0.1:5000", "app", "latest", ""}, "127.0.0.1:5000/app:latest", "127.0.0.1:5000/app:latest", "127.0.0.1:5000"},
		{"[::1]:5000/app:v1", Reference{"[::1]:5000", "app", "v1", ""}, "[::1]:5000/app:v1", "[::1]:5000/app:v1", "[::1]:5000"},
		// An upper-case first component is a host, as in docker/distribution.
		{"Registry/app", Reference{"Registry", "app", "latest", ""}, "Registry/app:latest", "Registry/app:latest", "Registry"},
		{"a__b/c.d/e--f_g-h", Reference{"docker.io", "a__b/c.d/e--f_g-h", "latest", ""}, "docker.io/a__b/c.d/e--f_g-h:latest", "a__b/c.d/e--f_g-h:latest", HubAuthKey},
		// "localhost:5000" alone is the image "localhost" with tag "5000".
		{"localhost:5000", Reference{"docker.io", "library/localhost", "5000", ""}, "docker.io/library/localhost:5000", "localhost:5000", HubAuthKey},
		// The short form would name another registry, so it keeps the domain.
		{"docker.io/localhost/app", Reference{"docker.io", "localhost/app", "latest", ""}, "docker.io/localhost/app:latest", "docker.io/localhost/app:latest", HubAuthKey},
		{"docker.io/a.b/app", Reference{"docker.io", "a.b/app", "latest", ""}, "docker.io/a.b/app:latest", "docker.io/a.b/app:latest", HubAuthKey},
		{"app:" + strings.Repeat("t", 128), Reference{"docker.io", "library/app", strings.Repeat("t", 128), ""}, "docker.io/library/app:" + strings.Repeat("t", 128), "app:" + strings.Repeat("t", 128), HubAuthKey},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseReference(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.str, got.String())
			assert.Equal(t, tt.familiar, got.Familiar())
			assert.Equal(t, tt.want.Domain+"/"+tt.want.Path, got.Name())
			assert.Equal(t, tt.authKey, got.AuthKey())

			again, err := ParseReference(got.String())
			require.NoError(t, err)
			assert.Equal(t, got, again, "String must parse back to the same reference")
			again, err = ParseReference(got.Familiar())
			require.NoError(t, err)
			assert.Equal(t, got, again, "Familiar must parse back to the same reference")
		})
	}
}

func TestParseReferenceInvalid(t *testing.T) {
	tests := []struct {
		name, in, part, reason string
	}{
		{"empty", "", "reference", "is empty"},
		{"image ID", hex64, "reference", "image ID"},
		{"uppercase official", "Redis", "path", `"library/Redis" must be lowercase`},
		{"uppercase path", "user/App:1", "path", "must be lowercase"},
		{"uppercase after host", "localhost:5000/App", "path", "must be lowercase"},
		{"empty tag", "redis:", "tag", "is empty"},
		{"tag starts with dash", "redis:-x", "tag", "not starting with"},
		{"tag with slash char", "redis:a+b", "tag", `"a+b"`},
		{"tag too long", "redis:" + strings.Repeat("t", 129), "tag", "129 characters"},
		{"empty digest", "redis@", "digest", "algorithm:hex"},
		{"short digest", "redis@sha256:abc", "digest", "64 hex digits"},
		{"unknown algorithm", "redis@md5:" + hex64, "digest", `"md5" is not supported`},
		{"uppercase digest", "redis@sha256:" + strings.ToUpper(hex64), "digest", "lower-case hex"},
		{"two digests", "redis@sha256:" + hex64 + "@sha256:" + hex64, "digest", ""},
		{"no name", ":tag", "name", "is empty"},
		{"no name before digest", "@sha256:" + hex64, "name", "is empty"},
		{"leading slash", "/redis", "path", "empty component"},
		{"trailing slash", "user/", "path", "empty component"},
		{"double dot", "a..b", "path", `component "a..b"`},
		{"mixed separator", "a_-b", "path", `component "a_-b"`},
		{"triple underscore", "a___b", "path", `component "a___b"`},
		{"leading dash", "-a", "path", `component "-a"`},
		{"space", "my app", "path", `component "my app"`},
		{"bad port", "example.com:abc/app", "domain", "invalid port"},
		{"empty port", "example.com:/app", "domain", "empty port"},
		{"underscore host", "exa_mple.com/app", "domain", "not a valid host name"},
		{"dash label", "-x.com/app", "domain", "not a valid host name"},
		{"unclosed ipv6", "[::1:5000/app", "domain", "unclosed"},
		{"bad ipv6", "[::g]:5000/app", "domain", "IPv6"},
		{"junk after ipv6", "[::1]x/app", "domain", "':port'"},
		{"name too long", "localhost/" + strings.Repeat("a", 250), "name", "at most 255"},
		{"colon in path", "redis:1:2", "path", `component "redis:1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseReference(tt.in)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidReference)
			var re *ReferenceError
			require.True(t, errors.As(err, &re), "want *ReferenceError, got %T", err)
			assert.Equal(t, tt.in, re.Input)
			assert.Equal(t, tt.part, re.Part)
			assert.Contains(t, re.Reason, tt.reason)
			assert.Contains(t, err.Error(), "invalid image reference")
			assert.Contains(t, err.Error(), tt.part)
		})
	}
}

func TestReferenceErrorTruncatesHugeInput(t *testing.T) {
	_, err := ParseReference(strings.Repeat("A", 10000))
	require.Error(t, err)
	assert.Less(t, len(err.Error()), 1000)
}

func TestAuthKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", HubAuthKey},
		{"docker.io", HubAuthKey},
		{"index.docker.io", HubAuthKey},
		{"registry-1.docker.io", HubAuthKey},
		{"Docker.IO", HubAuthKey},
		{HubAuthKey, HubAuthKey},
		{"https://index.docker.io/v1", HubAuthKey},
		{"http://docker.io", HubAuthKey},
		{"localhost:5000", "localhost:5000"},
		{"https://localhost:5000/v1/", "localhost:5000"},
		{"http://localhost:5000", "localhost:5000"},
		{"localhost:5000/", "localhost:5000"},
		{"ghcr.io", "ghcr.io"},
		{"https://ghcr.io/v2/", "ghcr.io"},
		{"[::1]:5000", "[::1]:5000"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, AuthKey(tt.in))
		})
	}
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		"redis", "redis:7", "user/app", "docker.io/library/redis:latest", "index.docker.io/redis",
		"localhost:5000/app@sha256:" + hex64, "localhost:5000/team/app:1.0@sha256:" + hex64,
		"[::1]:5000/app:v1", "Registry/app", "a__b/c.d/e--f_g", "docker.io/localhost/app",
		"Redis", "redis:", "redis@sha256:abc", ":tag", "/x", "a..b", "example.com:abc/app", hex64,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseReference(s)
		if err != nil {
			var re *ReferenceError
			if !errors.As(err, &re) || !errors.Is(err, ErrInvalidReference) {
				t.Fatalf("error of type %T does not match ErrInvalidReference: %v", err, err)
			}
			if re.Part == "" || re.Reason == "" {
				t.Fatalf("error names no part or reason: %v", err)
			}
			return
		}
		if ref.Tag == "" && ref.Digest == "" {
			t.Fatalf("%q parsed with neither tag nor digest", s)
		}
		if len(ref.Name()) > maxNameLength {
			t.Fatalf("%q parsed with a name of %d characters", s, len(ref.Name()))
		}
		for _, form := range []string{ref.String(), ref.Familiar()} {
			again, err := ParseReference(form)
			if err != nil {
				t.Fatalf("%q parsed to %q which does not parse: %v", s, form, err)
			}
			if again != ref {
				t.Fatalf("%q parsed to %#v, but %q parses to %#v", s, ref, form, again)
			}
		}
	})
}
