package container

import "github.com/berth-go/berth/engine"

// The engine's answers, for errors.Is on the errors of this package and
// of the handles' methods: the same errors as engine's, named here so a
// test of containers needs no second import.
var (
	// ErrNotFound: the container, image, path, network or checkpoint
	// does not exist (HTTP 404).
	ErrNotFound = engine.ErrNotFound
	// ErrConflict: the name is taken, or the object is in a state that
	// forbids the call (HTTP 409).
	ErrConflict = engine.ErrConflict
	// ErrUnauthorized: a registry refused the pull (HTTP 401/403).
	ErrUnauthorized = engine.ErrUnauthorized
	// ErrUnsupported: this engine cannot do it (no checkpoints without
	// experimental mode and CRIU, no live update on Podman, ...).
	ErrUnsupported = engine.ErrUnsupported
	// ErrDaemonUnreachable: no engine answers where the environment
	// points (DOCKER_HOST, DOCKER_CONTEXT), or at any place the socket
	// search looks (the error lists them).
	ErrDaemonUnreachable = engine.ErrDaemonUnreachable
)
