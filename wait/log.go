package wait

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
)

// LogStrategy waits for a line in the container's output (stdout and
// stderr) to appear a number of times. It reads one followed log stream and
// matches lines as they arrive: no re-reading, no polling.
//
// Memory stays bounded whatever the container writes: a line longer than
// 1 MiB (the size the container package's FollowLogs delivers an endless
// line in) is matched in 1 MiB windows that overlap by half, so a match of
// up to 512 KiB is found anywhere in it; such a line counts once for Times.
type LogStrategy struct {
	substr string
	re     *regexp.Regexp
	isRe   bool
	times  int
}

// ForLog waits for a line containing substr, which must not be empty.
func ForLog(substr string) *LogStrategy { return &LogStrategy{substr: substr, times: 1} }

// ForLogRegexp waits for a line matching re.
func ForLogRegexp(re *regexp.Regexp) *LogStrategy {
	return &LogStrategy{re: re, isRe: true, times: 1}
}

// Times waits for the n-th matching line (postgres logs its ready line
// twice: once for the init server, once for the real one). n must be at
// least 1.
func (s *LogStrategy) Times(n int) *LogStrategy {
	s.times = n
	return s
}

// String describes the wait, e.g. `log "ready" ×2`.
func (s *LogStrategy) String() string {
	what := fmt.Sprintf("log %q", s.substr)
	if s.re != nil {
		what = fmt.Sprintf("log /%s/", s.re)
	}
	if s.times != 1 {
		what += fmt.Sprintf(" ×%d", s.times)
	}
	return what
}

// Validate reports an empty text, a nil regexp or a count below 1.
func (s *LogStrategy) Validate() error {
	call := fmt.Sprintf("ForLog(%q)", s.substr)
	if s.isRe {
		call = "ForLogRegexp(nil)"
		if s.re != nil {
			call = fmt.Sprintf("ForLogRegexp(%q)", s.re)
		}
	}
	switch {
	case s.isRe && s.re == nil:
		return invalid(call, "no regexp: give one, e.g. regexp.MustCompile(`ready on port \\d+`)")
	case !s.isRe && s.substr == "":
		return invalid(call, `no text to wait for: every line would match; give the text of the line that says the service is ready`)
	case s.times < 1:
		return invalid(call+fmt.Sprintf(".Times(%d)", s.times), "want 1 or more matching lines; leave Times out for 1")
	}
	return nil
}

func (s *LogStrategy) match(line []byte) bool {
	if s.re != nil {
		return s.re.Match(line)
	}
	return bytes.Contains(line, []byte(s.substr))
}

// Ready blocks until the line was seen the wanted number of times.
func (s *LogStrategy) Ready(ctx context.Context, t Target) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return run(ctx, t, s.String(), func(ctx context.Context, seen *observation) error {
		rc, err := t.Logs(ctx, true)
		if err != nil {
			return err
		}
		defer rc.Close()
		lines := lineCounter{match: s.match}
		err = scanLines(rc, func(line []byte, start bool) bool {
			if lines.add(line, start) && lines.n >= s.times {
				return true
			}
			// Only the start of the line: fmt would copy all of it.
			seen.set("%d of %d matching lines; last line %q", lines.n, s.times, line[:min(len(line), 200)])
			return false
		})
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("log stream ended after %d of %d matching lines: %w", lines.n, s.times, err)
		}
		return err
	})
}
