package wait

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// LogStrategy waits for a line in the container's output (stdout and
// stderr) to appear a number of times. It reads one followed log stream and
// matches lines as they arrive: no re-reading, no polling.
type LogStrategy struct {
	substr string
	re     *regexp.Regexp
	times  int
}

// ForLog waits for a line containing substr.
func ForLog(substr string) *LogStrategy { return &LogStrategy{substr: substr, times: 1} }

// ForLogRegexp waits for a line matching re.
func ForLogRegexp(re *regexp.Regexp) *LogStrategy { return &LogStrategy{re: re, times: 1} }

// Times waits for the n-th matching line (postgres logs its ready line
// twice: once for the init server, once for the real one).
func (s *LogStrategy) Times(n int) *LogStrategy {
	if n < 1 {
		n = 1
	}
	s.times = n
	return s
}

// String describes the wait, e.g. `log "ready" ×2`.
func (s *LogStrategy) String() string {
	what := fmt.Sprintf("log %q", s.substr)
	if s.re != nil {
		what = fmt.Sprintf("log /%s/", s.re)
	}
	if s.times > 1 {
		what += fmt.Sprintf(" ×%d", s.times)
	}
	return what
}

func (s *LogStrategy) match(line string) bool {
	if s.re != nil {
		return s.re.MatchString(line)
	}
	return strings.Contains(line, s.substr)
}

// Ready blocks until the line was seen the wanted number of times.
func (s *LogStrategy) Ready(ctx context.Context, t Target) error {
	return run(ctx, t, s.String(), func(ctx context.Context, seen *observation) error {
		rc, err := t.Logs(ctx, true)
		if err != nil {
			return err
		}
		defer rc.Close()
		br := bufio.NewReaderSize(rc, 64<<10)
		n := 0
		for {
			line, err := br.ReadString('\n')
			if len(line) > 0 {
				line = strings.TrimRight(line, "\r\n")
				if s.match(line) {
					n++
					if n >= s.times {
						return nil
					}
				}
				seen.set("%d of %d matching lines; last line %q", n, s.times, line)
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					return fmt.Errorf("log stream ended after %d of %d matching lines", n, s.times)
				}
				return err
			}
		}
	})
}
