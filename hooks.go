package berth

import (
	"context"

	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
)

// OnCreated runs fn once the container exists (networks joined, files
// copied), before it starts. An error fails the start, naming the hook,
// and the container is removed.
func (b *ContainerBuilder) OnCreated(fn func(ctx context.Context, c *Container) error) *ContainerBuilder {
	b.hooks.Created = chainHook(b.hooks.Created, fn, b.s.tb)
	return b
}

// OnStarted runs fn once the engine has started the container, before the
// wait strategy. An error fails the start like OnCreated's.
func (b *ContainerBuilder) OnStarted(fn func(ctx context.Context, c *Container) error) *ContainerBuilder {
	b.hooks.Started = chainHook(b.hooks.Started, fn, b.s.tb)
	return b
}

// OnReady runs fn once the wait strategy says the container is ready, before
// Start returns (seed data, a health probe of your own). An error fails the
// start like OnCreated's.
func (b *ContainerBuilder) OnReady(fn func(ctx context.Context, c *Container) error) *ContainerBuilder {
	b.hooks.Ready = chainHook(b.hooks.Ready, fn, b.s.tb)
	return b
}

// OnRemove runs fn at cleanup, before the container is stopped and
// removed (a database dump, a copy of files for the test's log). It does
// not run for a container the test removed itself.
func (b *ContainerBuilder) OnRemove(fn func(ctx context.Context, c *Container)) *ContainerBuilder {
	b.onRemove = append(b.onRemove, fn)
	return b
}

// chainHook runs prev, then fn with the harness's handle of the container.
func chainHook(prev func(context.Context, *container.Container) error, fn func(context.Context, *Container) error, tb testingTB) func(context.Context, *container.Container) error {
	return func(ctx context.Context, c *container.Container) error {
		if prev != nil {
			if err := prev(ctx, c); err != nil {
				return err
			}
		}
		return fn(ctx, &Container{Container: c, tb: tb})
	}
}

// onRemove records the OnRemove hooks of a started container.
func (s *scope) onRemove(id string, c *Container, fns []func(context.Context, *Container)) {
	if len(fns) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.resources {
		if r.kind == engine.KindContainer && r.id == id {
			for _, fn := range fns {
				s.resources[i].beforeRemove = append(s.resources[i].beforeRemove, func(ctx context.Context) { fn(ctx, c) })
			}
		}
	}
}
