package build

import (
	"fmt"
	"strings"

	"github.com/berth-go/berth/build/internal/regauth"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/registry"
)

// credentialPlaces says where a build's registry credentials come from.
const credentialPlaces = "Auth(host, ...) on the builder (build.Options.Keychain), else " + registry.LookupOrder

// AuthError is a build a registry refused: an image the build pulls (a
// base image, COPY --from, RUN --mount=from) could not be had without
// credentials, or with the ones the build sent. It names the registry and
// where the credentials came from, never the credentials, and says what to
// do. errors.Is(err, engine.ErrUnauthorized) holds (registry.ErrUnauthorized
// is the same error).
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
	reg, login := "the registry", registry.LoginCommand(e.Registry)
	if e.Registry != "" {
		reg += " " + e.Registry
	}
	host := e.Registry
	if host == "" {
		host = "HOST"
	}
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if e.Source.Kind == "" || e.Source.Kind == registry.SourceAnonymous {
		fmt.Fprintf(&b, "; %s refused the pull without credentials (the build found none for it): if the name is right and the image is private, log in (%s) or pass Auth(%q, ...); credentials are looked up in %s",
			reg, login, host, credentialPlaces)
	} else {
		fmt.Fprintf(&b, "; %s refused the credentials from %s: check them, or log in again (%s); credentials are looked up in %s",
			reg, sourceText(e.Source), login, credentialPlaces)
	}
	return b.String()
}

func (e *AuthError) Unwrap() error { return e.Err }

// Is makes every AuthError match engine.ErrUnauthorized, whatever words the
// engine used ("denied: ..." included).
func (e *AuthError) Is(target error) bool { return target == engine.ErrUnauthorized }

func sourceText(s registry.Source) string {
	if s.Kind == registry.SourceExplicit {
		return "the build's own keychain (Auth on the builder, or build.Options.Keychain)"
	}
	return s.String()
}

// refused turns a classic build's error into an *AuthError when a
// registry refused a pull; other errors come back as they are.
func refused(err error, step string, rec *regauth.Recorder) error {
	host, ok := rec.Refusal(err.Error(), step)
	if !ok {
		return err
	}
	return &AuthError{Registry: host, Source: rec.Sent(host), Err: err}
}
