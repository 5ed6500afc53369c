package engine

import "github.com/berth-go/berth/internal/wire"

// Sentinel errors for errors.Is. Every error from an engine call, from this
// package or from the handles of the container, network, registry and build
// packages, matches the one that fits it.
var (
	// ErrNotFound: the container, image, network or volume does not exist.
	ErrNotFound = wire.ErrNotFound
	// ErrConflict: a name is taken, or the object is in a state that
	// forbids the call (removing a running container without force).
	ErrConflict = wire.ErrConflict
	// ErrUnauthorized: a registry refused the credentials, or had none.
	ErrUnauthorized = wire.ErrUnauthorized
	// ErrUnsupported: the engine lacks the endpoint (Podman has no live
	// update or checkpoints; old engines lack newer calls).
	ErrUnsupported = wire.ErrUnsupported
	// ErrDaemonUnreachable: nothing answered at the engine's address.
	ErrDaemonUnreachable = wire.ErrDaemonUnreachable
	// ErrClosed: the client (or the session holding it) was closed.
	ErrClosed = wire.ErrClosed
	// ErrNilContext: a nil context.Context was passed; use
	// context.Background() or t.Context().
	ErrNilContext = wire.ErrNilContext
	// ErrNoClient: a nil *Client was passed where a client is needed.
	ErrNoClient = wire.ErrNoClient
	// ErrNoResponse: the engine took a call and did not start to answer
	// it within the response timeout (see WithResponseTimeout): it looks
	// hung. It matches ErrDaemonUnreachable too.
	ErrNoResponse = wire.ErrNoResponse
	// ErrAnswerTooLarge: the engine's answer went past berth's bound for
	// that kind of answer (a broken engine or proxy); reading stopped.
	ErrAnswerTooLarge = wire.ErrAnswerTooLarge
)
