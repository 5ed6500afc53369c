package wait

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cenkalti/backoff/v4"
)

// ExecStrategy waits until a command run inside the container succeeds.
type ExecStrategy struct {
	cmd    []string
	code   int
	output func(stdout, stderr []byte) bool
}

// ForExec waits until cmd exits with code 0 (change with ExitCode). A
// command the image does not have ends the wait at once with that error
// (the container package's ErrCommandNotFound).
func ForExec(cmd ...string) *ExecStrategy { return &ExecStrategy{cmd: cmd} }

// ExitCode sets the exit code that counts as ready.
func (s *ExecStrategy) ExitCode(n int) *ExecStrategy { s.code = n; return s }

// OutputMatcher also requires the output to satisfy match.
func (s *ExecStrategy) OutputMatcher(match func(stdout, stderr []byte) bool) *ExecStrategy {
	s.output = match
	return s
}

// String describes the wait.
func (s *ExecStrategy) String() string {
	return fmt.Sprintf("exec %q exit %d", strings.Join(s.cmd, " "), s.code)
}

// Validate reports a missing command.
func (s *ExecStrategy) Validate() error {
	if len(s.cmd) == 0 || s.cmd[0] == "" {
		args := make([]string, len(s.cmd))
		for i, a := range s.cmd {
			args[i] = strconv.Quote(a)
		}
		return invalid("ForExec("+strings.Join(args, ", ")+")", `no command: give the program and its arguments, e.g. ForExec("pg_isready")`)
	}
	return nil
}

// Ready blocks until the command gives the wanted exit code (and output).
func (s *ExecStrategy) Ready(ctx context.Context, t Target) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return run(ctx, t, s.String(), func(ctx context.Context, seen *observation) error {
		return unwrapPermanent(poll(ctx, func() error {
			res, err := t.Exec(ctx, s.cmd)
			if err != nil {
				seen.set("exec error: %v", err)
				// A command the image does not have will not appear.
				var p interface{ Permanent() bool }
				if errors.As(err, &p) && p.Permanent() {
					return backoff.Permanent(err)
				}
				return err
			}
			if res.ExitCode != s.code {
				seen.set("exit code %d, stdout %.200q, stderr %.200q", res.ExitCode, res.Stdout, res.Stderr)
				return fmt.Errorf("exit code %d", res.ExitCode)
			}
			if s.output != nil && !s.output(res.Stdout, res.Stderr) {
				seen.set("exit code %d but output not matched: stdout %.200q, stderr %.200q", res.ExitCode, res.Stdout, res.Stderr)
				return fmt.Errorf("output not matched")
			}
			return nil
		}))
	})
}
