package berth

import (
	"context"
	"time"

	"github.com/berth-go/berth/container"
)

// LogTo sends every line the container writes to fn: from its creation
// (lines written before it was ready included) until it is removed,
// across stops and restarts, each line once and in order. fn is called
// from a goroutine of its own; the harness waits for it to end before the
// test does. Calls add consumers.
func (b *ContainerBuilder) LogTo(fn func(container.LogLine)) *ContainerBuilder {
	b.logTo = append(b.logTo, fn)
	return b
}

// LogToTest logs every line the container writes with t.Log, prefixed by
// the container's name and stream. In a session (no test) it does nothing.
func (b *ContainerBuilder) LogToTest() *ContainerBuilder {
	tb := b.s.tb
	if tb == nil {
		return b
	}
	return b.LogTo(func(l container.LogLine) { tb.Logf("%s %s | %s", b.spec.Image, l.Stream, l.Text) })
}

// followStop bounds how long a cleanup waits for log consumers to see the
// end of their containers.
const followStop = 5 * time.Second

// follow starts the consumers of ctr's output; the scope's cleanup stops
// them.
func (s *scope) follow(ctr *container.Container, fns []func(container.LogLine)) {
	if len(fns) == 0 {
		return
	}
	s.mu.Lock()
	if s.followCtx == nil {
		s.followCtx, s.followStop = context.WithCancel(context.Background())
	}
	ctx := s.followCtx
	s.followers.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.followers.Done()
		ctr.FollowLife(ctx, func(l container.LogLine) {
			for _, fn := range fns {
				fn(l)
			}
		})
	}()
}

// stopFollowing waits at most patience for the consumers to deliver what
// their containers wrote (they end when the containers are removed), then
// stops them.
func (s *scope) stopFollowing(patience time.Duration) {
	s.mu.Lock()
	stop := s.followStop
	s.mu.Unlock()
	if stop == nil {
		return
	}
	done := make(chan struct{})
	go func() { s.followers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(patience):
		stop()
		<-done
	}
	stop()
}
