package container

import "github.com/berth-go/berth/internal/wire"

// The engine's answers, for errors.Is on the errors of this package and
// of the handles' methods (berth's own client lives in an internal
// package, so these are the names to test against).
var (
	// ErrNotFound: the container, image, path, network or checkpoint
	// does not exist (HTTP 404).
	ErrNotFound = wire.ErrNotFound
	// ErrConflict: the name is taken, or the object is in a state that
	// forbids the call (HTTP 409).
	ErrConflict = wire.ErrConflict
	// ErrUnauthorized: a registry refused the pull (HTTP 401/403).
	ErrUnauthorized = wire.ErrUnauthorized
	// ErrUnsupported: this engine cannot do it (no checkpoints without
	// experimental mode and CRIU, no live update on Podman, ...).
	ErrUnsupported = wire.ErrUnsupported
	// ErrDaemonUnreachable: no engine answers where the environment
	// points (DOCKER_HOST, DOCKER_CONTEXT), or at any place the socket
	// search looks (the error lists them).
	ErrDaemonUnreachable = wire.ErrDaemonUnreachable
)
