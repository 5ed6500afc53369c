package wait

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fake is a Target whose log is a pipe the test writes to and whose exit
// the test triggers.
type fake struct {
	mu      sync.Mutex
	logs    bytes.Buffer
	readers []*io.PipeWriter
	state   State
	exited  chan struct{}
	exec    func(cmd []string) (ExecResult, error)
	health  chan string
	files   map[string]string
	port    int   // MappedPort's answer; 0 for 1
	portErr error // MappedPort's error
	// stateErr fails State from its stateErrAfter-th call on.
	stateErr      error
	stateErrAfter int
	stateCalls    int
}

func newFake() *fake {
	return &fake{state: State{Status: "running", Running: true}, exited: make(chan struct{})}
}

func (f *fake) write(line string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs.WriteString(line)
	for _, w := range f.readers {
		w.Write([]byte(line))
	}
}

func (f *fake) exit(code int, oom bool) {
	f.mu.Lock()
	f.state = State{Status: "exited", ExitCode: code, OOMKilled: oom, HasHealthcheck: f.state.HasHealthcheck}
	for _, w := range f.readers {
		w.Close()
	}
	f.mu.Unlock()
	close(f.exited)
}

// stopAsEngine stops the container in the engine's order: its log
// streams end first, and the exit is recorded a little later.
func (f *fake) stopAsEngine(code int, after time.Duration) {
	f.mu.Lock()
	for _, w := range f.readers {
		w.Close()
	}
	f.readers = nil
	f.mu.Unlock()
	time.Sleep(after)
	f.exit(code, false)
}

func (f *fake) ID() string                           { return "fake" }
func (f *fake) Host(context.Context) (string, error) { return "127.0.0.1", nil }
func (f *fake) MappedPort(context.Context, string) (int, error) {
	if f.portErr != nil {
		return 0, f.portErr
	}
	if f.port != 0 {
		return f.port, nil
	}
	return 1, nil
}
func (f *fake) HealthEvents(context.Context) (<-chan string, error) { return f.health, nil }

func (f *fake) Logs(ctx context.Context, follow bool) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	snapshot := append([]byte(nil), f.logs.Bytes()...)
	if !follow || !f.state.Running {
		return io.NopCloser(bytes.NewReader(snapshot)), nil
	}
	pr, pw := io.Pipe()
	f.readers = append(f.readers, pw)
	go func() { pw.Write(snapshot) }()
	context.AfterFunc(ctx, func() { pw.CloseWithError(ctx.Err()) })
	return pr, nil
}

func (f *fake) Exec(ctx context.Context, cmd []string) (ExecResult, error) {
	if f.exec == nil {
		return ExecResult{ExitCode: 127}, nil
	}
	return f.exec(cmd)
}

func (f *fake) State(context.Context) (State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stateCalls++
	if f.stateErr != nil && f.stateCalls > f.stateErrAfter {
		return State{}, f.stateErr
	}
	return f.state, nil
}

func (f *fake) WaitExit(ctx context.Context) (State, error) {
	select {
	case <-f.exited:
		return f.State(ctx)
	case <-ctx.Done():
		return State{}, ctx.Err()
	}
}

func (f *fake) CopyFrom(ctx context.Context, path string) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	content, ok := f.files[path]
	if !ok {
		return nil, errors.New("no such file")
	}
	return tarOf(path, content), nil
}

// readyAsync runs s.Ready on t and returns the channel its result comes on.
func readyAsync(ctx context.Context, s Strategy, t Target) <-chan error {
	done := make(chan error, 1)
	go func() { done <- s.Ready(ctx, t) }()
	return done
}

// notYet fails when the wait ended within d.
func notYet(t *testing.T, done <-chan error, d time.Duration, why string) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("the wait ended early (%v): %s", err, why)
	case <-time.After(d):
	}
}

// endsSoon fails unless the wait ended without error within 5 s.
func endsSoon(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("the wait did not end")
	}
}

// waitsForLines writes each chunk to a fake's log in turn while s waits
// on it: the wait must not end after any chunk but the last (whys[i] says
// why not after chunk i), and must end soon after the last.
func waitsForLines(t *testing.T, s Strategy, chunks []string, whys ...string) {
	t.Helper()
	require.Len(t, whys, len(chunks)-1, "a reason for each chunk but the last")
	f := newFake()
	f.write(chunks[0])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := readyAsync(ctx, s, f)
	for i, why := range whys {
		notYet(t, done, 100*time.Millisecond, why)
		f.write(chunks[i+1])
	}
	endsSoon(t, done)
}

func TestForLogTimesAndLateLine(t *testing.T) {
	t.Parallel()
	waitsForLines(t, ForLog("ready").Times(2), []string{"starting\nready 1\nnoise\n", "ready 2\n"}, "one matching line of two")
	// Times(3) wants three lines: two are not enough.
	waitsForLines(t, ForLog("ready").Times(3), []string{"ready\nready\n", "ready\n"}, "two matching lines of three")
}

func TestForLogRegexp(t *testing.T) {
	t.Parallel()
	waitsForLines(t, ForLogRegexp(regexp.MustCompile(`listening on :\d+$`)),
		[]string{"listening on :abc\nready soon\n", "listening on :8080\n"}, "no line matches the regexp")
	waitsForLines(t, ForLogRegexp(regexp.MustCompile(`^port \d`)).Times(3),
		[]string{"port 1\nport 2\n", "report 3\n", "port 3\n"}, "two matching lines of three", "the regexp is anchored")
}

func TestForLogRefusesBadInput(t *testing.T) {
	for _, tt := range []struct {
		s    *LogStrategy
		want string
	}{
		{ForLog(""), `ForLog(""): no text to wait for`},
		{ForLog("").Times(0), `ForLog(""): no text to wait for`},
		{ForLog("ready").Times(0), `ForLog("ready").Times(0): want 1 or more matching lines`},
		{ForLog("ready").Times(-2), `ForLog("ready").Times(-2): want 1 or more`},
		{ForLogRegexp(nil), `ForLogRegexp(nil): no regexp`},
		{ForLogRegexp(regexp.MustCompile(`a+`)).Times(0), `ForLogRegexp("a+").Times(0): want 1 or more`},
	} {
		f := newFake()
		f.write("ready\n")
		start := time.Now()
		err := tt.s.Ready(context.Background(), f)
		assert.Less(t, time.Since(start), time.Second)
		assert.ErrorIs(t, err, ErrInvalidStrategy)
		var se *StrategyError
		if assert.ErrorAs(t, err, &se) {
			assert.True(t, strings.HasPrefix(err.Error(), tt.want), "got %q, want prefix %q", err, tt.want)
		}
	}
	assert.NoError(t, ForLogRegexp(regexp.MustCompile(``)).Validate(), "an empty regexp is a choice: any line")
	assert.NoError(t, ForLog("x").Times(1).Validate())
}

func TestForLogFailsFastOnExit(t *testing.T) {
	f := newFake()
	f.write("booting\nfatal: config missing\n")
	go func() {
		time.Sleep(100 * time.Millisecond)
		f.exit(3, false)
	}()
	start := time.Now()
	err := ForLog("ready").Ready(context.Background(), f)
	require.Error(t, err)
	assert.Less(t, time.Since(start), time.Second)
	var ee *ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 3, ee.ExitCode)
	assert.Contains(t, err.Error(), "fatal: config missing")
	assert.Contains(t, err.Error(), `log "ready"`)
}

// The engine ends a container's log streams before it records the exit: a
// wait that saw its log end still reports the exit, not the log's end.
func TestLogEndBeforeExitIsAnExit(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]Strategy{
		"ForLog":    ForLog("ready"),
		"FollowLog": followsLog("ready"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			f.write("fatal: bad config\n")
			done := readyAsync(context.Background(), s, f)
			time.Sleep(50 * time.Millisecond)
			f.stopAsEngine(3, 300*time.Millisecond)
			var ee *ExitError
			require.ErrorAs(t, <-done, &ee)
			assert.Equal(t, 3, ee.ExitCode)
			assert.Contains(t, ee.Error(), "fatal: bad config")
		})
	}
}

// A probe that fails while the container is paused or not yet started
// reports its own error: only a stopped container is an exit.
func TestProbeErrorIsAnExitOnlyWhenStopped(t *testing.T) {
	t.Parallel()
	refused := errors.New("refused")
	for _, st := range []State{
		{Status: "paused"},
		{Status: "created"},
		{Status: "exited", ExitCode: 2},
	} {
		f := newFake()
		f.state = st
		err := Watch(context.Background(), f, "a probe", func(context.Context, func(string, ...any)) error { return refused })
		var ee *ExitError
		if st.Status == "exited" {
			require.ErrorAs(t, err, &ee, st.Status)
			assert.Equal(t, 2, ee.ExitCode)
			continue
		}
		assert.ErrorIs(t, err, refused, st.Status)
		assert.False(t, errors.As(err, &ee), st.Status)
	}
}

// followsLog is a strategy written outside this package: Watch around
// FollowLog.
type followsLog string

func (s followsLog) String() string { return "follows the log" }

func (s followsLog) Ready(ctx context.Context, t Target) error {
	return Watch(ctx, t, "a followed log", func(ctx context.Context, _ func(string, ...any)) error {
		lines, err := FollowLog(ctx, t, string(s))
		if err != nil {
			return err
		}
		return lines.Next(ctx)
	})
}

func TestOOMKilledIsNamed(t *testing.T) {
	f := newFake()
	go f.exit(137, true)
	err := ForExec("true").Ready(context.Background(), f)
	var ee *ExitError
	require.ErrorAs(t, err, &ee)
	assert.True(t, ee.OOMKilled)
	assert.Contains(t, err.Error(), "OOM-killed")
}

func TestTimeoutSaysWhatWasSeen(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.write("listening on 9000\n")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := ForLog("ready").Ready(ctx, f)
	var te *TimeoutError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	msg := err.Error()
	assert.Contains(t, msg, `gave up waiting for log "ready" after`)
	assert.Contains(t, msg, "listening on 9000")
	assert.NotContains(t, msg, "context deadline exceeded")
}

func TestForExecLastSeen(t *testing.T) {
	t.Parallel()
	f := newFake()
	var calls atomic.Int32
	f.exec = func(cmd []string) (ExecResult, error) {
		// Exit 0 from the start, but "accepting" only from the third call:
		// the output matcher alone decides.
		if calls.Add(1) < 3 {
			return ExecResult{ExitCode: 0, Stdout: []byte("starting")}, nil
		}
		return ExecResult{ExitCode: 0, Stdout: []byte("accepting")}, nil
	}
	require.NoError(t, ForExec("pg_isready").OutputMatcher(func(o, _ []byte) bool { return bytes.Contains(o, []byte("accepting")) }).Ready(context.Background(), f))
	assert.EqualValues(t, 3, calls.Load(), "ready at the first output that matched")

	// The matcher sees stderr too.
	f1 := newFake()
	f1.exec = func([]string) (ExecResult, error) { return ExecResult{ExitCode: 0, Stderr: []byte("warming")}, nil }
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := ForExec("probe").OutputMatcher(func(_, e []byte) bool { return bytes.Contains(e, []byte("warm")) }).Ready(ctx, f1)
	require.NoError(t, err)
	err = ForExec("probe").OutputMatcher(func(_, e []byte) bool { return bytes.Contains(e, []byte("hot")) }).Ready(ctx, f1)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "output not matched")
	assert.Contains(t, err.Error(), "warming")

	f2 := newFake()
	f2.exec = func([]string) (ExecResult, error) { return ExecResult{ExitCode: 1, Stderr: []byte("no server")}, nil }
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = ForExec("probe").Ready(ctx, f2)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exit code 1")
	assert.Contains(t, err.Error(), "no server")
}

func TestForExecExitCode(t *testing.T) {
	t.Parallel()
	f := newFake()
	var calls atomic.Int32
	var got []string
	f.exec = func(cmd []string) (ExecResult, error) {
		got = cmd
		if calls.Add(1) < 3 {
			return ExecResult{ExitCode: 0}, nil
		}
		return ExecResult{ExitCode: 3}, nil
	}
	require.NoError(t, ForExec("check", "--quiet").ExitCode(3).Ready(context.Background(), f))
	assert.EqualValues(t, 3, calls.Load(), "exit 0 is not ready when 3 is wanted")
	assert.Equal(t, []string{"check", "--quiet"}, got)
	assert.Equal(t, `exec "check --quiet" exit 3`, ForExec("check", "--quiet").ExitCode(3).String())
}

// notFound is an exec error a Target marks permanent (a command the image
// does not have).
type notFound struct{}

func (notFound) Error() string   { return "exec: \"pg_isready\": executable file not found" }
func (notFound) Permanent() bool { return true }

func TestForExecStopsOnAPermanentError(t *testing.T) {
	t.Parallel()
	f := newFake()
	var calls atomic.Int32
	f.exec = func([]string) (ExecResult, error) { calls.Add(1); return ExecResult{}, notFound{} }
	start := time.Now()
	err := ForExec("pg_isready").Ready(context.Background(), f)
	assert.Less(t, time.Since(start), time.Second)
	assert.ErrorIs(t, err, notFound{})
	assert.EqualValues(t, 1, calls.Load())

	// A passing error is retried.
	f2 := newFake()
	calls.Store(0)
	f2.exec = func([]string) (ExecResult, error) {
		if calls.Add(1) < 3 {
			return ExecResult{}, errors.New("container is restarting")
		}
		return ExecResult{}, nil
	}
	require.NoError(t, ForExec("true").Ready(context.Background(), f2))
	assert.EqualValues(t, 3, calls.Load())
}

func TestForHealthy(t *testing.T) {
	t.Run("no healthcheck", func(t *testing.T) {
		f := newFake()
		err := ForHealthy().Ready(context.Background(), f)
		assert.ErrorIs(t, err, ErrNoHealthcheck)
	})
	t.Run("healthy by event", func(t *testing.T) {
		f := newFake()
		f.state.HasHealthcheck, f.state.Health = true, "starting"
		f.health = make(chan string, 2)
		f.health <- "starting"
		f.health <- "healthy"
		require.NoError(t, ForHealthy().Ready(context.Background(), f))
	})
	t.Run("unhealthy", func(t *testing.T) {
		f := newFake()
		f.state.HasHealthcheck, f.state.Health = true, "starting"
		f.health = make(chan string, 1)
		f.health <- "unhealthy"
		err := ForHealthy().Ready(context.Background(), f)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "unhealthy")
	})
}

func TestForExit(t *testing.T) {
	f := newFake()
	go f.exit(0, false)
	require.NoError(t, ForExit().Ready(context.Background(), f))
	f2 := newFake()
	f2.write("boom\n")
	go f2.exit(2, false)
	err := ForExit().Ready(context.Background(), f2)
	var ee *ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 2, ee.ExitCode)
	assert.Contains(t, err.Error(), "boom")
}

func TestForFile(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.files = map[string]string{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := readyAsync(ctx, ForFile("/ready").Matcher(func(b []byte) bool { return string(b) == "ok" }), f)
	notYet(t, done, 100*time.Millisecond, "no file yet")
	f.mu.Lock()
	f.files["/ready"] = "not yet"
	f.mu.Unlock()
	notYet(t, done, 200*time.Millisecond, "the content does not match")
	f.mu.Lock()
	f.files["/ready"] = "ok"
	f.mu.Unlock()
	endsSoon(t, done)

	// Without a matcher, any content will do.
	done = readyAsync(ctx, ForFile("/ready"), f)
	endsSoon(t, done)

	f.mu.Lock()
	f.files["/other"] = "half"
	f.mu.Unlock()
	tctx, tcancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer tcancel()
	err := ForFile("/other").Matcher(func(b []byte) bool { return string(b) == "whole" }).Ready(tctx, f)
	var te *TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, `content "half" not matched`, te.LastSeen)
	assert.Equal(t, "file /other", te.Awaited)
}

// slow never succeeds until ctx ends; it records that it was cancelled.
type slow struct{ cancelled chan struct{} }

func (s slow) Ready(ctx context.Context, _ Target) error {
	<-ctx.Done()
	close(s.cancelled)
	return ctx.Err()
}
func (s slow) String() string { return "slow" }

type instant struct{ err error }

func (i instant) Ready(context.Context, Target) error { return i.err }
func (i instant) String() string                      { return "instant" }

func TestAllAndAny(t *testing.T) {
	f := newFake()
	s := slow{cancelled: make(chan struct{})}
	err := All(s, instant{errors.New("broken")}).Ready(context.Background(), f)
	assert.EqualError(t, err, "broken")
	select {
	case <-s.cancelled:
	case <-time.After(time.Second):
		t.Fatal("All did not cancel the others")
	}
	s2 := slow{cancelled: make(chan struct{})}
	require.NoError(t, Any(s2, instant{}).Ready(context.Background(), f))
	select {
	case <-s2.cancelled:
	case <-time.After(time.Second):
		t.Fatal("Any did not cancel the others")
	}
	err = Any(instant{errors.New("a")}, instant{errors.New("b")}).Ready(context.Background(), f)
	assert.ErrorContains(t, err, "a")
	assert.ErrorContains(t, err, "b")
	assert.Equal(t, `all(log "x" ×2, healthy)`, All(ForLog("x").Times(2), ForHealthy()).String())
}

func TestTCPTable(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0050 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1`
	assert.Equal(t, listening, tcpTableState(table, 8080))
	assert.Equal(t, notListening, tcpTableState(table, 80), "port 80 is only an established connection")
	assert.Equal(t, notListening, tcpTableState(table, 5432))
	// Four fields are enough: local address and state.
	assert.Equal(t, listening, tcpTableState("0: 00000000:1538 00000000:0000 0A", 5432))
	assert.Equal(t, notListening, tcpTableState("0: 00000000:1538 00000000:0000", 5432))
}

// BenchmarkForLogDetection measures the time from a line being written to
// ForLog returning.
func BenchmarkForLogDetection(b *testing.B) {
	for b.Loop() {
		f := newFake()
		done := make(chan time.Duration)
		go func() {
			_ = ForLog("ready").Ready(context.Background(), f)
			done <- 0
		}()
		time.Sleep(time.Millisecond) // the follower is attached
		start := time.Now()
		f.write("ready\n")
		<-done
		b.ReportMetric(float64(time.Since(start).Microseconds()), "µs/detect")
	}
}

func TestFollowLog(t *testing.T) {
	f := newFake()
	f.write("starting\nready 1\n")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lines, err := FollowLog(ctx, f, "ready")
	require.NoError(t, err)
	recv := func(what string) {
		t.Helper()
		if err := lines.Next(ctx); err != nil {
			t.Fatalf("%s: no line: %v", what, err)
		}
	}
	recv("a line written before following")
	f.write("noise\n")
	f.write("ready 2\n")
	recv("a line written while following")
	select {
	case <-lines.Found:
		t.Fatal("a signal without a matching line")
	case <-time.After(50 * time.Millisecond):
	}
	f.exit(0, false)
	err = lines.Next(ctx)
	assert.ErrorIs(t, err, io.EOF, "the log ends with the container")
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "the log did not end with the container")
	assert.ErrorContains(t, err, `the log ended before "ready"`)
}

// What a probe sees as the wait's ctx ends (mostly that ctx cutting its
// last try) does not hide what it saw before.
func TestTimeoutKeepsWhatWasSeenBeforeTheEnd(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := Watch(ctx, newFake(), "x", func(ctx context.Context, seen func(string, ...any)) error {
		seen("status %d", 503)
		<-ctx.Done()
		seen("cut: %v", ctx.Err())
		return ctx.Err()
	})
	var te *TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "status 503", te.LastSeen)

	// Nothing seen before the end: the end is better than nothing.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	err = Watch(ctx2, newFake(), "x", func(ctx context.Context, seen func(string, ...any)) error {
		<-ctx.Done()
		seen("cut")
		return ctx.Err()
	})
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "cut", te.LastSeen)
}

func TestExitErrorSaysTheState(t *testing.T) {
	for _, tt := range []struct {
		e    ExitError
		want string
	}{
		{ExitError{Awaited: "x", ExitCode: 3, Status: "exited"}, "container exited with code 3 while waiting for x"},
		{ExitError{Awaited: "x", ExitCode: 3}, "container exited with code 3 while waiting for x"},
		{ExitError{Awaited: "x", ExitCode: 1, Status: "dead"}, "container is dead (exit code 1) while waiting for x"},
		{ExitError{Awaited: "x", ExitCode: 137, OOMKilled: true, Status: "dead"}, "container was OOM-killed (raise its memory limit) while waiting for x"},
	} {
		assert.Equal(t, tt.want+"; the container logged nothing", tt.e.Error())
	}
}
