package wait

import (
	"context"
	"fmt"
	"time"
)

// ExitStrategy waits for a one-shot container to finish.
type ExitStrategy struct {
	code int
}

// ForExit waits until the container exits with code 0 (change with Code).
// Here the exit is the success, so it does not count as failing fast.
func ForExit() *ExitStrategy { return &ExitStrategy{} }

// Code sets the expected exit code.
func (s *ExitStrategy) Code(n int) *ExitStrategy { s.code = n; return s }

// String describes the wait.
func (s *ExitStrategy) String() string { return fmt.Sprintf("exit code %d", s.code) }

// Ready blocks until the container exits; another exit code is an error
// carrying the log tail.
func (s *ExitStrategy) Ready(ctx context.Context, t Target) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	start := time.Now()
	st, err := t.WaitExit(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return &TimeoutError{Awaited: s.String(), After: time.Since(start), LastSeen: "still running", LogTail: logTail(ctx, t), Err: ctx.Err()}
		}
		return err
	}
	if st.ExitCode != s.code || st.OOMKilled {
		return &ExitError{Awaited: s.String(), ExitCode: st.ExitCode, OOMKilled: st.OOMKilled, Status: st.Status, LogTail: logTail(ctx, t)}
	}
	return nil
}
