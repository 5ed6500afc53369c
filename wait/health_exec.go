package wait

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The engine's HEALTHCHECK defaults.
const (
	defaultHealthInterval = 30 * time.Second
	defaultHealthTimeout  = 30 * time.Second
	defaultHealthRetries  = 3
)

// healthCommand turns a HEALTHCHECK test into the command to exec.
func healthCommand(test []string) ([]string, error) {
	if len(test) == 0 {
		return nil, ErrNoHealthcheck
	}
	switch test[0] {
	case "NONE":
		return nil, ErrNoHealthcheck
	case "CMD":
		if len(test) > 1 {
			return test[1:], nil
		}
	case "CMD-SHELL":
		if len(test) > 1 {
			return []string{"/bin/sh", "-c", strings.Join(test[1:], " ")}, nil
		}
	default:
		return nil, fmt.Errorf("HEALTHCHECK test %q: want CMD, CMD-SHELL or NONE first", test)
	}
	return nil, fmt.Errorf("HEALTHCHECK test %q has no command", test)
}

// runCheck runs the container's HEALTHCHECK through Exec for an engine that
// never runs it, with the engine's schedule and rules.
func (s *HealthStrategy) runCheck(ctx context.Context, t Target, hc Healthcheck) error {
	cmd, err := healthCommand(hc.Test)
	if err != nil {
		return err
	}
	interval, timeout, retries := hc.Interval, hc.Timeout, hc.Retries
	if interval <= 0 {
		interval = defaultHealthInterval
	}
	if timeout <= 0 {
		timeout = defaultHealthTimeout
	}
	if retries <= 0 {
		retries = defaultHealthRetries
	}
	return run(ctx, t, s.String(), func(ctx context.Context, seen *observation) error {
		started := hc.StartedAt
		if now := time.Now(); started.IsZero() || started.After(now) {
			started = now
		}
		// Like the engine: the first check one interval after the start,
		// the next one an interval after each check ends.
		next := started.Add(interval)
		streak := 0
		for {
			if d := time.Until(next); d > 0 {
				timer := time.NewTimer(d)
				select {
				case <-ctx.Done():
					timer.Stop()
					return ctx.Err()
				case <-timer.C:
				}
			}
			begun := time.Now()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			res, err := t.Exec(cctx, cmd)
			// By the clock too: on a busy machine the ctx's timer may not
			// have fired yet when a check that outlasted it returns.
			timedOut := errors.Is(cctx.Err(), context.DeadlineExceeded) || time.Since(begun) >= timeout
			cancel()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var outcome string
			switch {
			case timedOut:
				outcome = fmt.Sprintf("timed out after %s", timeout)
			case err != nil:
				outcome = fmt.Sprintf("exec failed: %v", err)
			case res.ExitCode == 0:
				return nil
			default:
				outcome = fmt.Sprintf("exit code %d, output %.200q", res.ExitCode, strings.TrimSpace(string(res.Stdout)+string(res.Stderr)))
			}
			// Failures in the start period do not count.
			if hc.StartPeriod <= 0 || !begun.Before(started.Add(hc.StartPeriod)) {
				streak++
			}
			seen.set("health check by berth (the engine runs none): %s; %d of %d failures in a row", outcome, streak, retries)
			if streak >= retries {
				return fmt.Errorf("the container is unhealthy: its HEALTHCHECK failed %d times in a row, run by berth through exec as the engine runs none; last: %s", streak, outcome)
			}
			next = time.Now().Add(interval)
		}
	})
}
