package wait

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// ExitError says the container stopped running while a strategy waited.
type ExitError struct {
	Awaited   string
	ExitCode  int
	OOMKilled bool
	Status    string
	LogTail   []string
}

func (e *ExitError) Error() string {
	var b strings.Builder
	what := fmt.Sprintf("exited with code %d", e.ExitCode)
	if e.OOMKilled {
		what = "was OOM-killed (raise its memory limit)"
	} else if e.Status != "" && e.Status != "exited" {
		what = fmt.Sprintf("is %s (exit code %d)", e.Status, e.ExitCode)
	}
	fmt.Fprintf(&b, "container %s while waiting for %s", what, e.Awaited)
	writeTail(&b, e.LogTail)
	return b.String()
}

// TimeoutError says what a strategy waited for, how long, and what it saw
// last.
type TimeoutError struct {
	Awaited  string
	After    time.Duration
	LastSeen string
	LogTail  []string
	Err      error // the ctx's error
}

func (e *TimeoutError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gave up waiting for %s after %s", e.Awaited, e.After.Round(time.Millisecond))
	if e.LastSeen != "" {
		fmt.Fprintf(&b, "; last seen: %s", e.LastSeen)
	}
	writeTail(&b, e.LogTail)
	return b.String()
}

// Unwrap keeps errors.Is(err, context.DeadlineExceeded) true.
func (e *TimeoutError) Unwrap() error { return e.Err }

func writeTail(b *strings.Builder, tail []string) {
	if len(tail) == 0 {
		b.WriteString("; the container logged nothing")
		return
	}
	fmt.Fprintf(b, "; last %d log lines:", len(tail))
	for _, l := range tail {
		b.WriteString("\n    ")
		b.WriteString(l)
	}
}

// tailLines is how many log lines errors carry, and tailLineMax how much
// of each.
const (
	tailLines   = 20
	tailLineMax = 4 << 10
)

// logEndGrace is how long a wait whose followed log ended waits for the
// engine to record the container's exit before it asks the state.
const logEndGrace = 2 * time.Second

// logTail reads the last lines of the container's log with a fresh short
// ctx (the wait's ctx may be over). A line longer than tailLineMax is cut,
// saying so.
func logTail(ctx context.Context, t Target) []string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	rc, err := t.Logs(ctx, false)
	if err != nil {
		return []string{"(logs unavailable: " + err.Error() + ")"}
	}
	defer rc.Close()
	var lines []string
	scanLines(rc, func(line []byte, start bool) bool {
		if !start {
			// The rest of a line longer than maxLine: cut already.
			return false
		}
		if len(line) > tailLineMax {
			lines = append(lines, strings.ToValidUTF8(string(line[:tailLineMax]), "")+fmt.Sprintf(" [line cut: %d bytes or more]", len(line)))
		} else {
			lines = append(lines, string(line))
		}
		if len(lines) > tailLines {
			lines = lines[1:]
		}
		return false
	})
	return lines
}

// observation records what a probe saw last, for the timeout message.
type observation struct {
	mu   sync.Mutex
	last string
	// ended is the wait's ctx: once it is over, what a probe sees is
	// mostly that ctx cutting its last try, which would hide what it saw
	// before.
	ended <-chan struct{}
}

func (o *observation) set(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.last != "" && o.ended != nil {
		select {
		case <-o.ended:
			return
		default:
		}
	}
	o.last = fmt.Sprintf(format, args...)
}

func (o *observation) get() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

// errProbeDone stops the exit watcher once the probe returned.
var errProbeDone = errors.New("probe finished")

// run applies the default timeout and fail-fast to a probe: the probe runs
// while the container's exit is watched; whichever ends first decides. An
// exit fails the wait with the exit code and the log tail; awaited names
// what the probe waited for in that message.
func run(ctx context.Context, t Target, awaited string, probe func(ctx context.Context, seen *observation) error) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	start := time.Now()
	pctx, pcancel := context.WithCancelCause(ctx)
	defer pcancel(errProbeDone)

	exited := make(chan State, 1)
	go func() {
		st, err := t.WaitExit(pctx)
		if err == nil && !st.Running {
			exited <- st
		}
	}()
	seen := &observation{ended: ctx.Done()}
	done := make(chan error, 1)
	go func() { done <- probe(pctx, seen) }()

	exitError := func(st State) error {
		return &ExitError{Awaited: awaited, ExitCode: st.ExitCode, OOMKilled: st.OOMKilled, Status: st.Status, LogTail: logTail(ctx, t)}
	}
	var err error
	select {
	case err = <-done:
		if err == nil {
			return nil
		}
	case st := <-exited:
		pcancel(errors.New("container stopped"))
		<-done
		return exitError(st)
	}
	// The probe failed: when the container stopped meanwhile, that is the
	// real story. A followed log that ended says it is stopping, but the
	// engine ends log streams before it records the exit: give the record
	// a moment.
	if errors.Is(err, io.EOF) {
		select {
		case st := <-exited:
			return exitError(st)
		case <-time.After(logEndGrace):
		case <-ctx.Done():
		}
	}
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	st, serr := t.State(sctx)
	scancel()
	if serr == nil && !st.Running && st.Status != "paused" && st.Status != "created" {
		return exitError(st)
	}
	if ctx.Err() != nil {
		return &TimeoutError{Awaited: awaited, After: time.Since(start), LastSeen: seen.get(), LogTail: logTail(ctx, t), Err: ctx.Err()}
	}
	return err
}

// poll calls try with capped exponential backoff (10 ms up to 500 ms) until
// it returns nil, a permanent error (backoff.Permanent), or ctx ends.
func poll(ctx context.Context, try func() error) error {
	b := &backoff.ExponentialBackOff{
		InitialInterval: 10 * time.Millisecond, RandomizationFactor: 0.2, Multiplier: 1.5,
		MaxInterval: 500 * time.Millisecond, Clock: backoff.SystemClock,
	}
	b.Reset()
	err := backoff.Retry(try, backoff.WithContext(b, ctx))
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// drain reads r to EOF; used to release streams.
func drain(r io.Reader) { io.Copy(io.Discard, r) }
