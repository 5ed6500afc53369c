package build

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/registry"
)

func TestAuthErrorWording(t *testing.T) {
	engine := errors.New("unauthorized: authentication required")
	tests := []struct {
		name  string
		err   *AuthError
		wants []string
	}{
		{"none sent", &AuthError{Registry: "localhost:5000", Source: registry.Source{Kind: registry.SourceAnonymous}, Err: engine},
			[]string{"unauthorized: authentication required; the registry localhost:5000 refused the pull without credentials", "docker login localhost:5000", `Auth("localhost:5000", ...)`, "DOCKER_AUTH_CONFIG"}},
		{"docker hub", &AuthError{Registry: "docker.io", Err: engine},
			[]string{"the registry docker.io refused the pull without credentials", "log in (docker login)"}},
		{"registry unknown", &AuthError{Err: engine},
			[]string{"the registry refused the pull without credentials", "log in (docker login)", `Auth("HOST", ...)`}},
		{"credsStore", &AuthError{Registry: "ghcr.io", Source: registry.Source{Kind: registry.SourceCredsStore, Helper: "docker-credential-pass", Config: "/home/u/.docker/config.json"}, Err: engine},
			[]string{"the registry ghcr.io refused the credentials from credential helper docker-credential-pass (credsStore in /home/u/.docker/config.json)", "docker login ghcr.io", "credHelpers"}},
		{"config auths", &AuthError{Registry: "ghcr.io", Source: registry.Source{Kind: registry.SourceAuths, Config: registry.EnvAuthConfig}, Err: engine},
			[]string{"refused the credentials from DOCKER_AUTH_CONFIG auths"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, w := range tt.wants {
				assert.Contains(t, tt.err.Error(), w)
			}
			assert.ErrorIs(t, tt.err, wire.ErrUnauthorized)
			assert.ErrorIs(t, tt.err, engine)
		})
	}
}

// A classic build sends credentials for the registries of its FROM and
// COPY --from images, not for stages.
func TestFromHosts(t *testing.T) {
	df := `FROM localhost:5000/base:1 AS build
FROM --platform=linux/amd64 ghcr.io/o/run:2
COPY --from=build /a /a
COPY --from=0 /b /b
COPY --chown=1:1 --from=quay.io/o/tools:3 /t /t
COPY --from=$IMG /c /c
copy --from=BUILD /d /d
FROM scratch
`
	assert.Equal(t, []string{"localhost:5000", "ghcr.io", "quay.io"}, fromHosts([]byte(df), func(string) bool { return false }))
	assert.Equal(t, []string{"ghcr.io", "quay.io"}, fromHosts([]byte(df), func(img string) bool { return strings.HasPrefix(img, "localhost:5000/") }), "an image the engine has is not pulled: its registry is not asked")
}
