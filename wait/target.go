// Package wait holds readiness strategies: small values that decide when a
// started container is truly ready to be used by a test.
//
// A Strategy talks to the container only through the Target interface, so
// strategies can be tested alone and any handle that satisfies Target can be
// waited on. Every strategy fails fast: when the container exits or is
// OOM-killed while a strategy waits, Ready returns at once with an *ExitError
// carrying the exit code and the last log lines.
package wait

import (
	"context"
	"io"
	"net"
	"strconv"
	"time"
)

// Strategy decides when a container is ready.
//
// Ready blocks until the container is ready, the container stops running, or
// ctx ends. The ctx is the only deadline; when it has none, strategies apply
// DefaultTimeout.
type Strategy interface {
	Ready(ctx context.Context, t Target) error
	String() string
}

// DefaultTimeout bounds a wait whose ctx carries no deadline.
const DefaultTimeout = 60 * time.Second

// withDefaultTimeout gives ctx DefaultTimeout when it carries no deadline.
func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, DefaultTimeout)
}

// Target is what a strategy may ask of a container. The container handle
// implements it; tests can implement it with a fake.
type Target interface {
	// ID is the container ID, used in messages.
	ID() string
	// Host is the host name or IP address where mapped ports are reachable.
	Host(ctx context.Context) (string, error)
	// MappedPort returns the host port bound to a container port such as
	// "5432/tcp" (a bare "5432" means tcp). It waits until the engine reports
	// the binding.
	MappedPort(ctx context.Context, port string) (int, error)
	// Logs returns the container's stdout and stderr, demultiplexed, in
	// the order the engine recorded them, from the start. With follow, the
	// stream stays open and ends when the container stops or ctx ends.
	Logs(ctx context.Context, follow bool) (io.ReadCloser, error)
	// Exec runs cmd inside the container and returns its exit code and
	// demultiplexed output.
	Exec(ctx context.Context, cmd []string) (ExecResult, error)
	// State inspects the container.
	State(ctx context.Context) (State, error)
	// WaitExit blocks until the container is no longer running (or ctx ends)
	// and returns its final state.
	WaitExit(ctx context.Context) (State, error)
	// HealthEvents streams the container's health status ("starting",
	// "healthy", "unhealthy") as the engine reports it, until ctx ends.
	HealthEvents(ctx context.Context) (<-chan string, error)
	// CopyFrom returns a tar stream of path inside the container, as the
	// engine's archive endpoint returns it.
	CopyFrom(ctx context.Context, path string) (io.ReadCloser, error)
}

// ExecResult is the outcome of a command run inside a container.
type ExecResult struct {
	ExitCode int
	Stdout   []byte
	Stderr   []byte
}

// State is the part of a container's inspect data strategies need.
type State struct {
	Status    string // created, running, paused, restarting, removing, exited, dead
	Running   bool
	ExitCode  int
	OOMKilled bool
	Error     string
	// Health is "", "starting", "healthy" or "unhealthy". HasHealthcheck
	// reports whether the image or container defines a HEALTHCHECK.
	Health         string
	HasHealthcheck bool
}

// Address is where clients reach the container port port of t:
// "host:mapped-port" on the host where mapped ports are reachable.
func Address(ctx context.Context, t Target, port string) (string, error) {
	host, mapped, err := endpoint(ctx, t, port)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(mapped)), nil
}

// endpoint is Address as a host and a port number.
func endpoint(ctx context.Context, t Target, port string) (string, int, error) {
	host, err := t.Host(ctx)
	if err != nil {
		return "", 0, err
	}
	mapped, err := t.MappedPort(ctx, port)
	if err != nil {
		return "", 0, err
	}
	return host, mapped, nil
}
