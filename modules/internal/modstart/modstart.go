// Package modstart holds what the modules' Start and StartE share: start
// the container, find where the test reaches its port, and turn an error
// into a failed test or a panic.
package modstart

import (
	"context"
	"fmt"

	"github.com/berth-go/berth"
)

// Start starts cb and returns the container with the host and the mapped
// port of port, where clients in the test connect. When reading them
// fails the container is removed. Errors start with "<module>: ".
func Start(ctx context.Context, module string, cb *berth.ContainerBuilder, port string) (*berth.Container, string, int, error) {
	c, err := cb.StartE(ctx)
	if err != nil {
		return nil, "", 0, fmt.Errorf("%s: %w", module, err)
	}
	host, err := c.Host(ctx)
	if err == nil {
		var p int
		if p, err = c.MappedPort(ctx, port); err == nil {
			return c, host, p, nil
		}
	}
	c.Remove(context.WithoutCancel(ctx))
	return nil, "", 0, fmt.Errorf("%s: %w", module, err)
}

// Must runs startE the way a module's Start does: in a *berth.Harness
// (scope) an error fails the test, with the test's context; in a session
// it panics. The caller marks itself t.Helper() first, so a failure is
// reported at the test's Start line.
func Must[T any](scope berth.Scope, startE func(context.Context) (T, error)) T {
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
