package build

import (
	"fmt"

	"github.com/berth-go/berth/build/internal/regauth"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/registry"
)

// AuthError is a build a registry refused: an image the build pulls (a
// base image, COPY --from, RUN --mount=from) could not be had without
// credentials, or with the ones the build sent. It names the registry and
// where the credentials came from, never the credentials, and says what to
// do. errors.Is(err, engine.ErrUnauthorized) holds.
type AuthError struct {
	// Registry is the host the build pulled from, e.g. "localhost:5000"
	// or "docker.io"; empty when the engine's answer does not tell.
	Registry string
	// Source is where the credentials sent to Registry came from; its
	// Kind is registry.SourceAnonymous when none were sent.
	Source registry.Source
	// Err is the engine's answer.
	Err error
}

func (e *AuthError) Error() string {
	host := e.Registry
	if host == "" {
		host = "HOST"
	}
	return e.Err.Error() + "; " + registry.Refusal(e.Registry, e.Source, fmt.Sprintf("Auth(%q, ...) on the builder (build.Options.Keychain)", host))
}

func (e *AuthError) Unwrap() error { return e.Err }

// Is makes every AuthError match engine.ErrUnauthorized, whatever words the
// engine used ("denied: ..." included).
func (e *AuthError) Is(target error) bool { return target == engine.ErrUnauthorized }

// refused turns a classic build's error into an *AuthError when a
// registry refused a pull; other errors come back as they are.
func refused(err error, step string, rec *regauth.Recorder) error {
	host, ok := rec.Refusal(err.Error(), step)
	if !ok {
		return err
	}
	return &AuthError{Registry: host, Source: rec.Sent(host), Err: err}
}
