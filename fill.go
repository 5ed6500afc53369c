package berth

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-go/berth/container"
)

// fillPatience bounds how long closing a session (or berth.Main) waits
// for warm-start cache fills still running in the background.
const fillPatience = 3 * time.Minute

// mainActive says berth.Main runs the tests: it waits for the session's
// fills before the leak check, so a test need not wait for its own.
var mainActive atomic.Bool

// fills are a session's background warm-start cache fills.
type fills struct {
	once sync.Once
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// later runs a cache fill in the background, in the session's name: its
// container carries the session's labels, not a test's, so it outlives the
// test that missed the cache.
func (s *Session) later(fill func(ctx context.Context, opts container.RunOptions)) {
	s.fills.once.Do(func() { s.fills.ctx, s.fills.stop = context.WithCancel(context.Background()) })
	s.fills.wg.Add(1)
	go func() {
		defer s.fills.wg.Done()
		fill(s.fills.ctx, s.scope.runOptions())
	}()
}

// waitFills waits at most patience for the session's fills to end, then
// cancels those left and waits for them to clean up.
func (s *Session) waitFills(patience time.Duration) {
	done := make(chan struct{})
	go func() { s.fills.wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-time.After(patience):
	}
	s.fills.once.Do(func() { s.fills.ctx, s.fills.stop = context.WithCancel(context.Background()) })
	s.fills.stop()
	<-done
}

// warmOptions lets a warm start that misses its cache start cold and fill
// the cache in the background. Outside berth.Main the test that missed
// waits for the fill at its end: nothing else would before the binary
// exits.
func (b *ContainerBuilder) warmOptions(opts *container.RunOptions) {
	opts.Later = b.s.session.later
}

// awaitFill makes the test wait for the cache fill its start began, when
// no berth.Main will.
func (b *ContainerBuilder) awaitFill(res *container.WarmResult) {
	if b.s.tb == nil || mainActive.Load() || res.Hit {
		return
	}
	b.s.tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), fillPatience)
		defer cancel()
		if err := res.Filled(ctx); err != nil {
			b.s.tb.Logf("berth: the warm-start cache of %s was not filled (the next run starts cold again): %v", b.spec.Image, err)
		}
	})
}
