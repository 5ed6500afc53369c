package wait

import "context"

// Watch runs probe under the rules every strategy of this package follows,
// so that a strategy written elsewhere (a module's, a subpackage's, a
// test's) behaves the same: a ctx without a deadline gets DefaultTimeout;
// when the container stops running, Watch returns an *ExitError with the
// exit code and the last log lines at once; when ctx ends, a *TimeoutError
// naming awaited and what probe last reported through seen. The ctx given
// to probe ends when Watch returns.
func Watch(ctx context.Context, t Target, awaited string, probe func(ctx context.Context, seen func(format string, args ...any)) error) error {
	return run(ctx, t, awaited, func(ctx context.Context, o *observation) error {
		return probe(ctx, o.set)
	})
}
