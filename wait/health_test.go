package wait

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// healthFake is a fake with a HEALTHCHECK whose health is health.
func healthFake(health string) *fake {
	f := newFake()
	f.state.HasHealthcheck, f.state.Health = true, health
	return f
}

// turnsHealth sets f's health to health after d.
func (f *fake) turnsHealth(d time.Duration, health string) {
	go func() {
		time.Sleep(d)
		f.mu.Lock()
		f.state.Health = health
		f.mu.Unlock()
	}()
}

// A fake with a HEALTHCHECK whose engine sends no health events: the wait
// reads the state until it says healthy or unhealthy.
func TestForHealthyByInspect(t *testing.T) {
	t.Parallel()
	f := healthFake("starting")
	f.turnsHealth(100*time.Millisecond, "healthy")
	start := time.Now()
	require.NoError(t, ForHealthy().Ready(context.Background(), f))
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "ready only once healthy")

	f2 := healthFake("starting")
	f2.turnsHealth(50*time.Millisecond, "unhealthy")
	err := ForHealthy().Ready(context.Background(), f2)
	require.Error(t, err)
	assert.Equal(t, "the container reported unhealthy", err.Error())

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	f3 := healthFake("starting")
	err = ForHealthy().Ready(ctx, f3)
	var te *TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, `health "starting"`, te.LastSeen)
	assert.Equal(t, "healthy", te.Awaited)
}

func TestForHealthyAlreadyHealthy(t *testing.T) {
	t.Parallel()
	f := healthFake("healthy")
	f.health = make(chan string) // never sends
	require.NoError(t, ForHealthy().Ready(context.Background(), f))
}

func TestForHealthyStateErrors(t *testing.T) {
	t.Parallel()
	broken := errors.New("inspect failed")
	f := newFake()
	f.stateErr = broken
	err := ForHealthy().Ready(context.Background(), f)
	assert.ErrorIs(t, err, broken, "the first inspect")

	// Inspect works once (the HEALTHCHECK is there), then fails.
	f2 := healthFake("starting")
	f2.stateErr, f2.stateErrAfter = broken, 1
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = ForHealthy().Ready(ctx, f2)
	assert.ErrorIs(t, err, broken)
	assert.NoError(t, ctx.Err(), "the error ends the wait")
}

func TestForHealthyEventStreamEnds(t *testing.T) {
	t.Parallel()
	f := healthFake("starting")
	f.health = make(chan string, 1)
	f.health <- "starting"
	close(f.health)
	err := ForHealthy().Ready(context.Background(), f)
	require.Error(t, err)
	assert.Equal(t, "event stream ended", err.Error())
}
