package wait

import (
	"context"
	"errors"
	"fmt"

	"github.com/cenkalti/backoff/v4"
)

// HealthStrategy waits for the container's HEALTHCHECK to report healthy.
type HealthStrategy struct{}

// ForHealthy waits for the image's (or container's) HEALTHCHECK to report
// "healthy", driven by the engine's health_status events with inspect as the
// fallback. A container without a HEALTHCHECK is an error at once; an
// "unhealthy" report ends the wait with an error.
func ForHealthy() *HealthStrategy { return &HealthStrategy{} }

// String describes the wait.
func (s *HealthStrategy) String() string { return "healthy" }

// ErrNoHealthcheck says the container has no HEALTHCHECK to wait for.
var ErrNoHealthcheck = errors.New("the container has no HEALTHCHECK: add one to the image, or wait with another strategy")

// Ready blocks until the container is healthy.
func (s *HealthStrategy) Ready(ctx context.Context, t Target) error {
	st, err := t.State(ctx)
	if err != nil {
		return err
	}
	if !st.HasHealthcheck {
		return ErrNoHealthcheck
	}
	return run(ctx, t, s.String(), func(ctx context.Context, seen *observation) error {
		events, err := t.HealthEvents(ctx)
		if err != nil {
			events = nil // inspect alone
		}
		check := func() (bool, error) {
			st, err := t.State(ctx)
			if err != nil {
				return false, err
			}
			seen.set("health %q", st.Health)
			switch st.Health {
			case "healthy":
				return true, nil
			case "unhealthy":
				return false, backoff.Permanent(fmt.Errorf("the container reported unhealthy"))
			}
			return false, nil
		}
		// The state first: the container may be healthy already.
		if ok, err := check(); ok || err != nil {
			return unwrapPermanent(err)
		}
		if events == nil {
			return unwrapPermanent(poll(ctx, func() error {
				ok, err := check()
				if err != nil || ok {
					return err
				}
				return errors.New("not healthy yet")
			}))
		}
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case status, ok := <-events:
				if !ok {
					return errors.New("event stream ended")
				}
				seen.set("health %q", status)
				switch status {
				case "healthy":
					return nil
				case "unhealthy":
					return fmt.Errorf("the container reported unhealthy")
				}
			}
		}
	})
}

func unwrapPermanent(err error) error {
	var p *backoff.PermanentError
	if errors.As(err, &p) {
		return p.Err
	}
	return err
}
