package berth_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/testenv"
)

// Close racing starts in flight: Close waits for them and removes what
// they made, and every start after it is refused. Nothing of the session
// is left, whichever way each start went.
func TestCloseWaitsForStartsInFlight(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := berth.NewSession(ctx, berth.WithoutWatchdog())
	require.NoError(t, err)
	id := s.ID()
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	started := make(chan struct{}, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started <- struct{}{}
			_, errs[i] = s.Container(busybox).Cmd("sleep", "600").StartE(ctx)
		}()
	}
	for range n {
		<-started
	}
	time.Sleep(50 * time.Millisecond) // some creates are on the wire
	require.NoError(t, s.Close(ctx))
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			assert.ErrorIs(t, err, engine.ErrClosed)
		}
	}
	_, err = s.Container(busybox).Cmd("true").StartE(ctx)
	assert.ErrorIs(t, err, engine.ErrClosed)
	c := testenv.Client(t)
	left, err := c.List(ctx, engine.Labelled(engine.SessionSelector(id)))
	require.NoError(t, err)
	assert.Empty(t, left, "Close left what starts in flight made")
}

// A harness kept past its test refuses work: it would make resources that
// no cleanup removes.
func TestHarnessAfterItsTestEnded(t *testing.T) {
	t.Parallel()
	var inner *berth.Harness
	t.Run("inner", func(t *testing.T) { inner = berth.New(t) })
	ctx := t.Context()
	_, err := inner.Container(busybox).Cmd("true").StartE(ctx)
	assert.ErrorIs(t, err, engine.ErrClosed)
	assert.ErrorContains(t, err, "the test "+t.Name()+"/inner has ended")
	_, err = inner.NetworkE(ctx, "late")
	assert.ErrorIs(t, err, engine.ErrClosed)
	assert.Empty(t, testenv.Left(t, inner.Engine(), inner.Session().ID(), t.Name()+"/inner"))
}

// A nil context is one typed error everywhere, never a panic.
func TestNilContextIsTyped(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	_, err := h.Container(busybox).Cmd("true").StartE(nil) //lint:ignore SA1012 the nil context is the point
	assert.ErrorIs(t, err, engine.ErrNilContext)
	_, err = h.NetworkE(nil, "x") //lint:ignore SA1012 the nil context is the point
	assert.ErrorIs(t, err, engine.ErrNilContext)
	c := h.Container(busybox).Cmd("sleep", "60").Start()
	_, err = c.Exec(nil, []string{"true"}) //lint:ignore SA1012 the nil context is the point
	assert.ErrorIs(t, err, engine.ErrNilContext)
	_, err = h.Engine().Images(nil, nil) //lint:ignore SA1012 the nil context is the point
	assert.True(t, errors.Is(err, engine.ErrNilContext), "%v", err)
}
