package berth

import (
	"context"
	"fmt"
	"sync"

	"github.com/berth-go/berth/engine"
)

// gate admits work that makes resources until it is closed; closing waits
// for the work admitted before, so a cleanup never races a create.
type gate struct {
	what string // "session" or "test TestName", for messages

	mu     sync.Mutex
	closed bool
	ops    sync.WaitGroup
}

// enter admits one piece of work; done must be called when it has ended.
func (g *gate) enter() (done func(), err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, fmt.Errorf("berth: the %s has ended: %w", g.what, engine.ErrClosed)
	}
	g.ops.Add(1)
	return g.ops.Done, nil
}

// close refuses new work and waits, within ctx, for the work in flight.
func (g *gate) close(ctx context.Context) {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	idle := make(chan struct{})
	go func() { g.ops.Wait(); close(idle) }()
	select {
	case <-idle:
	case <-ctx.Done():
	}
}

// enter admits work of the scope: the scope and, for a test's scope, its
// session must both be open. ctx must not be nil.
func (s *scope) enter(ctx context.Context) (func(), error) {
	if ctx == nil {
		return nil, fmt.Errorf("berth: %w", engine.ErrNilContext)
	}
	own, err := s.gate.enter()
	if err != nil {
		return nil, err
	}
	if s == s.session.scope {
		return own, nil
	}
	sess, err := s.session.gate.enter()
	if err != nil {
		own()
		return nil, err
	}
	return func() { sess(); own() }, nil
}
