package wait

import (
	"bytes"
	"context"
	"fmt"
)

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

// LogLines signals the lines of a followed log that contain a string:
// see FollowLog.
type LogLines struct {
	// Found receives a value each time a matching line arrives; lines
	// that come while the previous value is still unreceived count as one.
	Found <-chan struct{}
	// Ended receives the error that ended the log (io.EOF when the
	// container stopped), once.
	Ended  <-chan error
	substr string
}

// Next blocks until a matching line arrives. It fails when the log ends
// first, or with ctx's cause when ctx ends.
func (l *LogLines) Next(ctx context.Context) error {
	select {
	case <-l.Found:
		return nil
	case err := <-l.Ended:
		return fmt.Errorf("the log ended before %q: %w", l.substr, err)
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// FollowLog follows t's log from its start for a probe that acts on the
// lines containing substr (Next waits for one; Found and Ended serve a
// probe's own select). The log is closed when ctx ends, so give it the ctx
// of the probe that calls it. A line longer than 1 MiB is matched in
// overlapping windows, as by ForLog, and counts once.
func FollowLog(ctx context.Context, t Target, substr string) (*LogLines, error) {
	rc, err := t.Logs(ctx, true)
	if err != nil {
		return nil, err
	}
	found := make(chan struct{}, 1)
	end := make(chan error, 1)
	go func() {
		<-ctx.Done()
		rc.Close()
	}()
	go func() {
		want := []byte(substr)
		lines := lineCounter{match: func(line []byte) bool { return bytes.Contains(line, want) }}
		end <- scanLines(rc, func(line []byte, start bool) bool {
			if lines.add(line, start) {
				select {
				case found <- struct{}{}:
				default: // one is pending already
				}
			}
			return false
		})
	}()
	return &LogLines{Found: found, Ended: end, substr: substr}, nil
}
