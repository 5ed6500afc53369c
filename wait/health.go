package wait

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// HealthStrategy waits for the container's HEALTHCHECK to report healthy.
type HealthStrategy struct{}

// ForHealthy waits for the image's (or container's) HEALTHCHECK to report
// "healthy", driven by the engine's health_status events with inspect as the
// fallback. A container without a HEALTHCHECK is an error at once; an
// "unhealthy" report ends the wait with an error.
//
// On an engine that never runs HEALTHCHECKs (Podman without systemd; see
// HealthcheckTarget) ForHealthy runs the check itself through Exec, by the
// engine's rules: the first check an interval after the start, a check that
// outlasts the timeout fails, failures in the start period do not count,
// and the given number of failures in a row is unhealthy.
func ForHealthy() *HealthStrategy { return &HealthStrategy{} }

// Healthcheck is a container's HEALTHCHECK as the engine reports it.
type Healthcheck struct {
	// Test is {"CMD", arg...}, {"CMD-SHELL", command} (run with /bin/sh -c),
	// or {"NONE"} for a HEALTHCHECK turned off.
	Test []string
	// Interval, Timeout and StartPeriod are 0 for the engine's defaults
	// (30 s, 30 s and none); Retries is 0 for 3.
	Interval, Timeout, StartPeriod time.Duration
	Retries                        int
	// StartedAt is when the container's current run began.
	StartedAt time.Time
	// ByEngine reports whether the engine runs the check itself.
	ByEngine bool
}

// HealthcheckTarget is a Target that also reports its HEALTHCHECK. When the
// engine does not run the check (ByEngine false), ForHealthy runs it.
type HealthcheckTarget interface {
	Target
	Healthcheck(ctx context.Context) (Healthcheck, error)
}

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
	if ht, ok := t.(HealthcheckTarget); ok {
		hc, err := ht.Healthcheck(ctx)
		if err != nil {
			return err
		}
		if !hc.ByEngine {
			return s.runCheck(ctx, t, hc)
		}
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
