package buildkit

import (
	"context"

	"github.com/moby/buildkit/session/auth"
	"google.golang.org/grpc"

	"github.com/berth-go/berth/registry"
)

// authProvider answers the engine's credential requests during a build
// from a keychain (by default the user's Docker configuration and its
// credential helpers). Token exchange is left to the engine, which falls
// back to it when FetchToken is unimplemented.
type authProvider struct {
	auth.UnimplementedAuthServer
	kc registry.Keychain
}

// Register serves the auth service on the session.
func (p *authProvider) Register(s *grpc.Server) { auth.RegisterAuthServer(s, p) }

// Credentials returns the user name and secret for host, or none.
func (p *authProvider) Credentials(ctx context.Context, req *auth.CredentialsRequest) (*auth.CredentialsResponse, error) {
	host := req.GetHost()
	if host == "registry-1.docker.io" || host == "index.docker.io" {
		host = "docker.io"
	}
	ac, _, err := p.kc.Resolve(ctx, host)
	if err != nil {
		// A broken config or a failing credential helper: say so rather
		// than let the registry answer a puzzling 401.
		return nil, err
	}
	if ac.IdentityToken != "" {
		return &auth.CredentialsResponse{Secret: ac.IdentityToken}, nil
	}
	user, pass := ac.Username, ac.Password
	if user == "" && ac.Auth != "" {
		if u, pw, err := registry.DecodeAuth(ac.Auth); err == nil {
			user, pass = u, pw
		}
	}
	return &auth.CredentialsResponse{Username: user, Secret: pass}, nil
}
