package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/link"
	"github.com/berth-go/berth/internal/wire"
)

// Login checks credentials against a registry through the engine, as
// `docker login` does (POST /auth), and returns the identity token the
// registry issued, if any. a.ServerAddress names the registry (host[:port]
// or a URL); empty means Docker Hub. An "auth" field is decoded first.
// Login does not store the credentials anywhere.
func Login(ctx context.Context, ec *engine.Client, a AuthConfig) (identityToken string, err error) {
	client := link.Wire(ec)
	d, err := a.decoded()
	if err != nil {
		return "", fmt.Errorf("registry: login to %s: %w", serverName(a.ServerAddress), err)
	}
	if d.ServerAddress == "" {
		d.ServerAddress = HubAuthKey
	}
	resp, err := client.Auth(ctx, d)
	if err != nil {
		msg := fmt.Sprintf("registry: login to %s as %q: %%w", serverName(d.ServerAddress), d.Username)
		if errors.Is(err, engine.ErrUnauthorized) {
			msg += ": check the user name and password (or token)"
		}
		return "", fmt.Errorf(msg, scrub(err, d))
	}
	return resp.IdentityToken, nil
}

func serverName(addr string) string {
	if addr == "" {
		return "Docker Hub"
	}
	return addr
}

// Pull pulls ref through the engine with credentials for its registry from
// kc (nil means DefaultKeychain()), writing one line per progress step to
// progress (may be nil). A reference with a digest is pulled by digest.
// A refused pull matches engine.ErrUnauthorized and names the credential source.
func Pull(ctx context.Context, ec *engine.Client, kc Keychain, ref string, progress io.Writer) error {
	client := link.Wire(ec)
	r, err := ParseReference(ref)
	if err != nil {
		return fmt.Errorf("registry: pull: %w", err)
	}
	tag := r.Tag
	if r.Digest != "" {
		tag = r.Digest
	}
	return transfer(ctx, kc, "pull", r, func(header string) error {
		return client.ImagePull(ctx, r.Name(), tag, "", header, progressWriter(progress))
	})
}

// Push pushes the local image ref (which must have a tag, not a digest)
// through the engine with credentials for its registry from kc (nil means
// DefaultKeychain()), writing one line per progress step to progress (may
// be nil). An error reported inside the engine's progress stream is
// returned; a refused push matches engine.ErrUnauthorized and names the credential
// source.
func Push(ctx context.Context, ec *engine.Client, kc Keychain, ref string, progress io.Writer) error {
	client := link.Wire(ec)
	r, err := ParseReference(ref)
	if err != nil {
		return fmt.Errorf("registry: push: %w", err)
	}
	if r.Digest != "" {
		return fmt.Errorf("registry: push %s: cannot push a digest reference: name the image by tag", r)
	}
	return transfer(ctx, kc, "push", r, func(header string) error {
		return client.ImagePush(ctx, r.Name(), r.Tag, header, progressWriter(progress))
	})
}

// transfer runs op ("pull" or "push") of r through the engine by call,
// which sends header (kc's credentials for r's registry, encoded); a
// failure names the credential source and never holds the secret.
func transfer(ctx context.Context, kc Keychain, op string, r Reference, call func(header string) error) error {
	a, src, header, err := credentialsFor(ctx, kc, r)
	if err != nil {
		return fmt.Errorf("registry: %s %s: %w", op, r, err)
	}
	if err := call(header); err != nil {
		return transferError(op, r, src, scrub(err, a))
	}
	return nil
}

func credentialsFor(ctx context.Context, kc Keychain, r Reference) (AuthConfig, Source, string, error) {
	if kc == nil {
		kc = DefaultKeychain()
	}
	a, src, err := kc.Resolve(ctx, r.Domain)
	if err != nil {
		return AuthConfig{}, src, "", err
	}
	header, err := EncodeAuthHeader(a)
	if err != nil {
		return AuthConfig{}, src, "", err
	}
	return a, src, header, nil
}

func transferError(op string, r Reference, src Source, err error) error {
	msg := fmt.Sprintf("registry: %s %s (credentials: %s): %%w", op, r, src)
	if errors.Is(err, engine.ErrUnauthorized) {
		if src.Kind == SourceAnonymous {
			msg += fmt.Sprintf(": no credentials were found for %s; run docker login %s, or give credentials with WithAuth", r.AuthKey(), r.AuthKey())
		} else {
			msg += ": the registry refused these credentials; check them"
		}
	}
	return fmt.Errorf(msg, err)
}

// scrub guards against an engine or registry echoing a secret back in an
// error message: it replaces any secret of a in the message while keeping
// the error matchable with errors.Is and errors.As.
func scrub(err error, a AuthConfig) error {
	msg := err.Error()
	clean := msg
	for _, s := range []string{a.Password, a.Auth, a.IdentityToken, a.RegistryToken} {
		if len(s) >= 3 {
			clean = strings.ReplaceAll(clean, s, "[redacted]")
		}
	}
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// progressWriter renders a JSON progress stream as plain lines, like
// `docker push` without a terminal: status changes only, not every
// progress-bar update.
func progressWriter(w io.Writer) func(wire.JSONMessage) error {
	if w == nil {
		return nil
	}
	return func(m wire.JSONMessage) error {
		var line string
		switch {
		case m.Stream != "":
			_, err := io.WriteString(w, m.Stream)
			return err
		case m.Status == "":
			return nil
		case m.Progress != "":
			return nil // a progress-bar update
		case m.ID != "":
			line = m.ID + ": " + m.Status
		default:
			line = m.Status
		}
		_, err := io.WriteString(w, line+"\n")
		return err
	}
}
