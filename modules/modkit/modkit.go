// Package modkit is what berth's modules are made of, for writing a module
// of your own: a builder with defaults, a readiness check that speaks the
// server's protocol, Start and StartE. docs/modules.md walks through one
// (memcached) in about 60 lines.
//
// A module's builder holds a Scope (a *berth.Harness in a test, a
// *berth.Session elsewhere), embeds berth.Customizer for the common
// container calls, describes the container with Scope.Container, waits with
// a Probe and starts with Start; its Start is Must around its StartE.
package modkit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/wait"
)

// Scope is where a module's container is made: a *berth.Harness in a test
// (the container is removed when the test ends) or a *berth.Session.
type Scope = berth.Scope

// Start starts cb and returns the container with the Address of port,
// where clients in the test connect. When reading it fails the container
// is removed. Errors start with "<module>: ".
func Start(ctx context.Context, module string, cb *berth.ContainerBuilder, port string) (*berth.Container, Address, error) {
	c, err := cb.StartE(ctx)
	if err != nil {
		return nil, Address{}, fmt.Errorf("%s: %w", module, err)
	}
	at, err := AddressOf(ctx, c, port)
	if err != nil {
		c.Remove(context.WithoutCancel(ctx))
		return nil, Address{}, fmt.Errorf("%s: %w", module, err)
	}
	return c, at, nil
}

// Address is where the test reaches a port of a started server: the host
// and the host port mapped to it. A module's Container embeds the Address
// of the server's port (from Start) for Host, Port and Addr.
type Address struct {
	host string
	port int
}

// AddressOf reads the Address of c's port ("6379/tcp").
func AddressOf(ctx context.Context, c *berth.Container, port string) (Address, error) {
	host, err := c.Host(ctx)
	if err != nil {
		return Address{}, err
	}
	p, err := c.MappedPort(ctx, port)
	if err != nil {
		return Address{}, err
	}
	return Address{host: host, port: p}, nil
}

// Host is where the server's port is reachable from the test.
func (a Address) Host() string { return a.host }

// Port is the host port mapped to the server's port.
func (a Address) Port() int { return a.port }

// Addr is "host:port", for clients that take an address.
func (a Address) Addr() string { return net.JoinHostPort(a.host, strconv.Itoa(a.port)) }

// NetworkAddr is "alias:port" of port ("6379/tcp") for other containers on
// a network where the server has alias.
func NetworkAddr(alias, port string) string {
	number, _, _ := strings.Cut(port, "/")
	return net.JoinHostPort(alias, number)
}

// Must runs startE the way a module's Start does: in a *berth.Harness
// (scope) an error fails the test, with the test's context; in a session
// it panics. The module's Start marks itself t.Helper() first, so a failure
// is reported at the test's Start line.
func Must[T any](scope Scope, startE func(context.Context) (T, error)) T {
	if tb := scope.T(); tb != nil {
		tb.Helper()
		c, err := startE(tb.Context())
		if err != nil {
			tb.Fatalf("%v", err)
		}
		return c
	}
	c, err := startE(context.Background())
	if err != nil {
		panic(err.Error())
	}
	return c
}

// Probe is a readiness strategy: it follows the container's log until a
// line containing Log (skipped when Log is ""), then calls Try with the
// address of Port on the test's side until Try succeeds. Each new Log line
// tries again at once (a server that logs its ready line twice, once for
// an init server that takes no TCP connections, is found within one try);
// in between, tries back off from 5 ms to 100 ms. Try proves the server
// answers where clients connect: a protocol round trip, not a dial alone
// (the engine's port proxy accepts connections before the server listens).
//
// An error Try marks Permanent (a refused password) ends the wait at once.
// Like every wait, Probe fails as soon as the container exits, with its
// exit code and log tail.
type Probe struct {
	// Log is the server's ready line; "" tries from the start.
	Log string
	// Port is the container port Try gets the address of ("6379/tcp").
	Port string
	// Name says what Try does, for messages ("PING", "SELECT 1").
	Name string
	// Try makes one attempt against addr ("127.0.0.1:49153") and returns
	// nil when the server is ready. It must honour ctx.
	Try func(ctx context.Context, addr string) error
}

// Permanent marks an error of Probe.Try that waiting will not cure; the
// wait returns it at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Ready blocks until Try succeeds, the container stops, or ctx ends.
func (p Probe) Ready(ctx context.Context, t wait.Target) error {
	if p.Try == nil || p.Port == "" {
		return errors.New("modkit.Probe: Try and Port must be set")
	}
	return wait.Watch(ctx, t, p.String(), func(ctx context.Context, seen func(string, ...any)) error {
		var lines *wait.LogLines
		if p.Log != "" {
			var err error
			if lines, err = wait.FollowLog(ctx, t, p.Log); err != nil {
				return err
			}
		}
		// The mapped port is known while the server starts.
		addr, err := wait.Address(ctx, t, p.Port)
		if err != nil {
			return err
		}
		var found <-chan struct{} // nil without Log: never ready
		if lines != nil {
			seen("no %q line yet", p.Log)
			if err := lines.Next(ctx); err != nil {
				return err
			}
			found = lines.Found
		}
		return p.loop(ctx, addr, found, seen)
	})
}

func (p Probe) loop(ctx context.Context, addr string, found <-chan struct{}, seen func(string, ...any)) error {
	const firstDelay = 5 * time.Millisecond
	for delay := firstDelay; ; {
		last := p.Try(ctx, addr)
		if last == nil {
			return nil
		}
		var perm *permanentError
		if errors.As(last, &perm) {
			return fmt.Errorf("%s on %s: %w", p.name(), addr, perm.err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s on %s: %w; last try: %w", p.name(), addr, context.Cause(ctx), last)
		}
		seen("%s on %s: %v", p.name(), addr, last)
		select {
		case <-found:
			delay = firstDelay
		case <-time.After(delay):
			delay = min(delay*2, 100*time.Millisecond)
		case <-ctx.Done():
			return fmt.Errorf("%s on %s: %w; last try: %w", p.name(), addr, context.Cause(ctx), last)
		}
	}
}

func (p Probe) name() string {
	if p.Name == "" {
		return "probe"
	}
	return p.Name
}

// String describes the wait, e.g. `log "Ready", then PING on 6379/tcp`.
func (p Probe) String() string {
	if p.Log == "" {
		return fmt.Sprintf("%s on %s", p.name(), p.Port)
	}
	return fmt.Sprintf("log %q, then %s on %s", p.Log, p.name(), p.Port)
}
