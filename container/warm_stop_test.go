package container_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
)

// TestWarmFillHonorsStopTimeout fills a warm cache from a PID 1 that
// ignores SIGTERM (`sleep` as PID 1): the stop before the commit must give
// up after the spec's StopTimeout, not the 30 s default.
func TestWarmFillHonorsStopTimeout(t *testing.T) {
	t.Parallel()
	removeCache := testenv.RemoveImages(t)
	h := berth.New(t)
	ctx := t.Context()
	key := testenv.Unique(t)
	b := h.Container(busybox).Cmd("sleep", "3600").StopTimeout(time.Second).Label("berth-test-fill", key).Warm(key)
	hash, _, err := container.WarmHash(ctx, h.Engine(), b.Spec(), []string{key})
	require.NoError(t, err)
	removeCache(container.CacheRef(busybox, hash))

	// The fill container (started in the background, with the session's
	// labels) carries the spec's labels: its kill events say when the stop
	// signal went and when the engine gave up and killed.
	ectx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, _ := testenv.Wire(h.Engine()).Events(ectx, wire.Filters{
		"type":  {"container"},
		"event": {"kill"},
		"label": {"berth-test-fill=" + key, engine.LabelSession + "=" + h.Session().ID()},
	})

	begin := time.Now()
	c, err := b.StartE(ctx)
	require.NoError(t, err)
	require.False(t, c.WarmResult().Hit, "a fresh key must fill the cache")
	require.NoError(t, c.WarmResult().Filled(ctx))
	elapsed := time.Since(begin)
	assert.Less(t, elapsed, 15*time.Second, "the fill waited for the 30 s default instead of StopTimeout")
	if h.Engine().IsPodman(ctx) {
		// Podman's events carry no kill signals to time the grace by.
		return
	}

	term := map[string]time.Time{}
	var grace time.Duration
	timeout := time.After(5 * time.Second)
collect:
	for {
		select {
		case ev, ok := <-events:
			require.True(t, ok, "the event stream ended")
			at := time.Unix(0, ev.TimeNano)
			switch ev.Actor.Attributes["signal"] {
			case "15":
				term[ev.Actor.ID] = at
			case "9":
				if sent, ok := term[ev.Actor.ID]; ok {
					grace = at.Sub(sent)
					break collect
				}
			}
		case <-timeout:
			t.Fatalf("no SIGTERM then SIGKILL of the fill container seen (SIGTERMs: %d)", len(term))
		}
	}
	assert.InDelta(t, time.Second, grace, float64(900*time.Millisecond), "SIGKILL came %s after SIGTERM, want the StopTimeout of 1s", grace)
}
