package container

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/wire"
)

// Prune removes the stopped containers labelled berth.session=sessionID and
// returns their IDs. Running containers and containers of other sessions
// are never touched.
func Prune(ctx context.Context, ec *engine.Client, sessionID string) ([]string, error) {
	c := wireOf(ec)
	if sessionID == "" || strings.ContainsAny(sessionID, "=,\n") {
		// An empty value would widen the filter to every labelled container.
		return nil, &SpecError{Field: "Prune", Value: sessionID, Hint: "give the session ID (the value of the berth.session label)"}
	}
	f := wire.Filters{"label": {engine.SessionSelector(sessionID)}}
	var ids []string
	b := backoff.WithContext(&backoff.ExponentialBackOff{
		InitialInterval: 50 * time.Millisecond, RandomizationFactor: 0.3, Multiplier: 2,
		MaxInterval: time.Second, MaxElapsedTime: 30 * time.Second, Clock: backoff.SystemClock,
	}, ctx)
	err := backoff.Retry(func() error {
		var err error
		ids, err = c.ContainersPrune(ctx, f)
		// The engine runs one prune at a time and refuses a second.
		if err != nil && !(errors.Is(err, wire.ErrConflict) && strings.Contains(err.Error(), "prune operation is already running")) {
			return backoff.Permanent(err)
		}
		return err
	}, b)
	if err != nil {
		return nil, fmt.Errorf("prune stopped containers of session %s: %w", sessionID, err)
	}
	return ids, nil
}
