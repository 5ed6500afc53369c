package wait

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// MultiStrategy combines strategies.
type MultiStrategy struct {
	all        bool
	strategies []Strategy
}

// All waits for every strategy, concurrently; the first error cancels the
// rest and is returned.
func All(strategies ...Strategy) *MultiStrategy {
	return &MultiStrategy{all: true, strategies: strategies}
}

// Any waits until one strategy succeeds, concurrently, and cancels the
// rest; when all fail it returns their errors joined.
func Any(strategies ...Strategy) *MultiStrategy {
	return &MultiStrategy{strategies: strategies}
}

// String describes the wait, e.g. `all(log "ready", listening port 5432)`.
func (m *MultiStrategy) String() string {
	names := make([]string, len(m.strategies))
	for i, s := range m.strategies {
		names[i] = s.String()
	}
	op := "any"
	if m.all {
		op = "all"
	}
	return op + "(" + strings.Join(names, ", ") + ")"
}

// Validate checks every member: a nil one, or the first that does not
// validate, is reported.
func (m *MultiStrategy) Validate() error {
	op := "Any"
	if m.all {
		op = "All"
	}
	for i, s := range m.strategies {
		if s == nil {
			return invalid(op+"(...)", "strategy %d of %d is nil", i+1, len(m.strategies))
		}
		if err := Validate(s); err != nil {
			return fmt.Errorf("%s(...): strategy %d of %d: %w", op, i+1, len(m.strategies), err)
		}
	}
	return nil
}

// Ready runs the strategies concurrently.
func (m *MultiStrategy) Ready(ctx context.Context, t Target) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if len(m.strategies) == 0 {
		return nil
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	results := make(chan error, len(m.strategies))
	for _, s := range m.strategies {
		go func(s Strategy) { results <- s.Ready(ctx, t) }(s)
	}
	var errs []error
	for range m.strategies {
		err := <-results
		switch {
		case m.all && err != nil:
			return err
		case !m.all && err == nil:
			return nil
		case err != nil:
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
