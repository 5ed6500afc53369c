package berth

import (
	"context"
	"io"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/registry"
)

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

// Login checks credentials against a registry through the engine and
// returns the identity token the registry issued, if any.
func (s *Session) Login(ctx context.Context, a registry.AuthConfig) (string, error) {
	return registry.Login(ctx, s.client, a)
}

// Push pushes an image (a built or tagged reference) with the session's
// credentials; progress, when not nil, receives the push log.
func (s *Session) Push(ctx context.Context, ref string, progress io.Writer) error {
	return registry.Push(ctx, s.client, s.keychain, ref, progress)
}

// Tag gives an image another reference, removed again at the end of the
// test or session.
func (s *scope) Tag(ctx context.Context, image, ref string) error {
	done, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer done()
	r, err := registry.ParseReference(ref)
	if err != nil {
		return err
	}
	tag := r.Tag
	if tag == "" {
		tag = "latest"
	}
	if err := s.client().TagImage(ctx, image, r.Name(), tag); err != nil {
		return err
	}
	s.add(resource{kind: engine.KindImage, id: r.Name() + ":" + tag})
	return nil
}
