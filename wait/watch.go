package wait

import (
	"bufio"
	"context"
	"strings"
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

// FollowLog follows t's log from its start for a probe that acts on a
// line: lines receives a value each time a line containing substr arrives
// (lines that come while the previous value is still unreceived count as
// one), and ended receives the error that ended the log (io.EOF when the
// container stopped) once. Both stay open; the log is closed when ctx
// ends, so give it the ctx of the probe that calls it.
func FollowLog(ctx context.Context, t Target, substr string) (lines <-chan struct{}, ended <-chan error, err error) {
	rc, err := t.Logs(ctx, true)
	if err != nil {
		return nil, nil, err
	}
	found := make(chan struct{}, 1)
	end := make(chan error, 1)
	go func() {
		<-ctx.Done()
		rc.Close()
	}()
	go func() {
		br := bufio.NewReaderSize(rc, 64<<10)
		for {
			line, err := br.ReadString('\n')
			if strings.Contains(line, substr) {
				select {
				case found <- struct{}{}:
				default: // one is pending already
				}
			}
			if err != nil {
				end <- err
				return
			}
		}
	}()
	return found, end, nil
}
