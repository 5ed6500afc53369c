package berth

import (
	"context"

	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/registry"
)

// credentialsFrom turns a keychain into the container package's pull
// credentials: the encoded X-Registry-Auth for the reference's registry and
// where it came from (never the secret).
func credentialsFrom(kc registry.Keychain) container.Credentials {
	return func(ctx context.Context, ref string) (string, string, error) {
		r, err := registry.ParseReference(ref)
		if err != nil {
			return "", "", err
		}
		a, src, err := kc.Resolve(ctx, r.Domain)
		if err != nil {
			return "", "", err
		}
		if a.IsAnonymous() {
			return "", "", nil
		}
		if a.ServerAddress == "" {
			a.ServerAddress = r.AuthKey()
		}
		h, err := registry.EncodeAuthHeader(a)
		return h, src.String(), err
	}
}

// Keychain is the session's credential source: the user's Docker
// configuration (DOCKER_AUTH_CONFIG, config.json credHelpers, credsStore,
// auths).
func (s *Session) Keychain() registry.Keychain { return s.keychain }

// Auth pulls the image with these credentials instead of the user's Docker
// configuration.
func (b *ContainerBuilder) Auth(a registry.AuthConfig) *ContainerBuilder {
	r, err := registry.ParseReference(b.spec.Image)
	if err != nil {
		return b.fail("Auth", err)
	}
	b.keychain = registry.WithAuth(b.s.session.keychain, r.Domain, a)
	return b
}
