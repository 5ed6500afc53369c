package wire

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors for errors.Is. An *APIError matches the one that fits its
// status code; a *DaemonError matches ErrDaemonUnreachable.
var (
	ErrNotFound          = errors.New("not found")
	ErrConflict          = errors.New("conflict")
	ErrUnauthorized      = errors.New("unauthorized")
	ErrNotModified       = errors.New("not modified")
	ErrDaemonUnreachable = errors.New("docker engine unreachable")
	ErrUnsupported       = errors.New("not supported by this engine")
	ErrNilContext        = errors.New("nil context.Context: pass context.Background() or t.Context()")
	ErrNoClient          = errors.New("no engine client (nil): pass the client from engine.New, Harness.Engine or Session.Engine")
	ErrClosed            = errors.New("engine client closed: make a new client (or session) for more work")
)

// APIError is an error answer from the Engine API.
type APIError struct {
	Method     string
	Path       string // without the version prefix or query
	StatusCode int
	Message    string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("engine: %s %s: %d: %s", e.Method, e.Path, e.StatusCode, msg)
}

// Is reports whether the error matches one of the package's sentinels.
// A 404 for an endpoint the engine does not have (Podman's Docker API lacks
// /update and /checkpoints) matches ErrUnsupported, not ErrNotFound.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		// Podman answers some missing objects with 500.
		return e.StatusCode == http.StatusNotFound && !e.routeMissing() ||
			e.StatusCode == http.StatusInternalServerError && isNotFoundMessage(e.Message)
	case ErrUnsupported:
		return e.routeMissing()
	case ErrConflict:
		// Podman answers name conflicts and duplicates with 500.
		return e.StatusCode == http.StatusConflict || e.StatusCode == http.StatusInternalServerError && isConflictMessage(e.Message)
	case ErrNotModified:
		return e.StatusCode == http.StatusNotModified
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || IsAuthMessage(e.Message)
	}
	return false
}

// IsAuthMessage reports whether an engine or registry message says that
// credentials were missing or refused. Engines report registry auth failures
// with status 500 and one of these phrases.
func IsAuthMessage(msg string) bool {
	return containsAnyFold(msg, "no basic auth credentials", "unauthorized", "authentication required", "401 unauthorized", "incorrect username or password", "denied: requested access")
}

// routeMissing reports a 404 from the engine's router rather than from a
// handler: dockerd says "page not found", Podman a plain "Not Found", while a
// missing object's 404 names the object.
func (e *APIError) routeMissing() bool {
	return e.StatusCode == http.StatusNotFound && (e.Message == "page not found" || e.Message == "Not Found" || e.Message == "404 page not found")
}

// isNotFoundMessage recognises Podman's 500 answers about missing objects,
// e.g. "unable to find network with name or ID x: network not found".
func isNotFoundMessage(msg string) bool {
	return containsAnyFold(msg, "network not found", "no such network", "no such container", "no such image", "no such volume", "no such object")
}

func isConflictMessage(msg string) bool {
	return containsAnyFold(msg, "already in use", "already exists", "already used")
}

// containsAnyFold reports whether msg, in lower case, contains one of the
// lower-case phrases.
func containsAnyFold(msg string, phrases ...string) bool {
	m := strings.ToLower(msg)
	for _, p := range phrases {
		if strings.Contains(m, p) {
			return true
		}
	}
	return false
}

// DaemonError says the engine could not be reached at all.
type DaemonError struct {
	Host string // the endpoint, e.g. unix:///var/run/docker.sock
	From string // where the endpoint came from: DOCKER_HOST, context NAME, found: PATH (ENGINE), default
	// Searched says what the socket search saw at each place ("PATH:
	// STATE") when From is "default".
	Searched []string
	Err      error
}

func (e *DaemonError) Error() string {
	return fmt.Sprintf("cannot reach the Docker engine at %s (%s): %v%s; start the engine (make engine, or systemctl start docker) or point DOCKER_HOST / DOCKER_CONTEXT at a running one", e.Host, origin(e.From), e.Err, searchedNote(e.Searched))
}

func (e *DaemonError) Unwrap() error { return e.Err }

// Is makes a DaemonError match ErrDaemonUnreachable.
func (e *DaemonError) Is(target error) bool { return target == ErrDaemonUnreachable }

// StreamError is an error reported inside a JSON message stream (pull, push,
// build, load), where the HTTP status was already 200.
type StreamError struct {
	Code    int
	Message string
}

func (e *StreamError) Error() string { return e.Message }

// Is lets stream errors about credentials match ErrUnauthorized and missing
// images match ErrNotFound.
func (e *StreamError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Code == http.StatusUnauthorized || IsAuthMessage(e.Message)
	case ErrNotFound:
		m := strings.ToLower(e.Message)
		return e.Code == http.StatusNotFound || strings.Contains(m, "not found") || strings.Contains(m, "manifest unknown") ||
			strings.Contains(m, "does not exist")
	}
	return false
}
