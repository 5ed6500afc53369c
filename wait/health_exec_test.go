package wait

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unscheduled is a fake on an engine that runs no HEALTHCHECKs.
type unscheduled struct {
	*fake
	hc Healthcheck

	mu    sync.Mutex
	execs []time.Time
	cmds  [][]string
}

func (u *unscheduled) Healthcheck(context.Context) (Healthcheck, error) { return u.hc, nil }

// newUnscheduled records the checks run and answers them with the exit
// codes given, the last one repeated.
func newUnscheduled(hc Healthcheck, codes ...int) *unscheduled {
	u := &unscheduled{fake: newFake(), hc: hc}
	u.state.HasHealthcheck, u.state.Health = true, "starting"
	u.exec = func(cmd []string) (ExecResult, error) {
		u.mu.Lock()
		defer u.mu.Unlock()
		n := len(u.execs)
		u.execs = append(u.execs, time.Now())
		u.cmds = append(u.cmds, cmd)
		if n >= len(codes) {
			n = len(codes) - 1
		}
		return ExecResult{ExitCode: codes[n], Stderr: []byte("not yet")}, nil
	}
	return u
}

func (u *unscheduled) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.execs)
}

func TestForHealthyRunsTheCheckItself(t *testing.T) {
	ms := time.Millisecond
	t.Run("healthy after failures below retries", func(t *testing.T) {
		start := time.Now()
		u := newUnscheduled(Healthcheck{Test: []string{"CMD-SHELL", "test -f /ok"}, Interval: 30 * ms, Retries: 3, StartedAt: start}, 1, 1, 0)
		require.NoError(t, ForHealthy().Ready(context.Background(), u))
		assert.Equal(t, 3, u.count())
		assert.Equal(t, []string{"/bin/sh", "-c", "test -f /ok"}, u.cmds[0], "CMD-SHELL runs with /bin/sh -c")
		assert.GreaterOrEqual(t, u.execs[0].Sub(start), 30*ms, "the first check waits an interval after the start")
		assert.GreaterOrEqual(t, u.execs[2].Sub(u.execs[1]), 30*ms, "an interval between checks")
	})
	t.Run("unhealthy after retries", func(t *testing.T) {
		u := newUnscheduled(Healthcheck{Test: []string{"CMD", "false"}, Interval: 10 * ms, Retries: 2, StartedAt: time.Now()}, 1)
		err := ForHealthy().Ready(context.Background(), u)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "unhealthy")
		assert.Contains(t, err.Error(), "failed 2 times in a row")
		assert.Contains(t, err.Error(), "not yet", "the check's output is in the error")
		assert.Equal(t, 2, u.count())
		assert.Equal(t, []string{"false"}, u.cmds[0], "CMD runs as it is")
	})
	t.Run("failures in the start period do not count", func(t *testing.T) {
		u := newUnscheduled(Healthcheck{Test: []string{"CMD", "probe"}, Interval: 10 * ms, StartPeriod: 2 * time.Second, Retries: 1, StartedAt: time.Now()}, 1, 1, 1, 1, 0)
		require.NoError(t, ForHealthy().Ready(context.Background(), u))
		assert.Equal(t, 5, u.count())
	})
	t.Run("a container up long ago is checked at once", func(t *testing.T) {
		u := newUnscheduled(Healthcheck{Test: []string{"CMD", "probe"}, Interval: time.Hour, StartedAt: time.Now().Add(-2 * time.Hour)}, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, ForHealthy().Ready(ctx, u))
	})
	t.Run("zero settings take the engine's defaults", func(t *testing.T) {
		// Interval 0 is 30 s: started 29.8 s ago, the first check comes
		// in about 200 ms, not at once.
		start := time.Now()
		u := newUnscheduled(Healthcheck{Test: []string{"CMD", "probe"}, StartedAt: start.Add(-29800 * ms)}, 0)
		require.NoError(t, ForHealthy().Ready(context.Background(), u))
		assert.GreaterOrEqual(t, u.execs[0].Sub(start), 150*ms, "the default interval")
		// Retries 0 is 3; Timeout 0 is 30 s, so a quick check is in time.
		u = newUnscheduled(Healthcheck{Test: []string{"CMD", "probe"}, Interval: 5 * ms, StartedAt: time.Now()}, 1, 1, 0)
		require.NoError(t, ForHealthy().Ready(context.Background(), u))
		assert.Equal(t, 3, u.count(), "two failures are below the default 3 retries")
	})
	t.Run("a check over its timeout fails", func(t *testing.T) {
		u := newUnscheduled(Healthcheck{Test: []string{"CMD", "slow"}, Interval: 5 * ms, Timeout: 20 * ms, Retries: 1}, 0)
		u.exec = func([]string) (ExecResult, error) {
			time.Sleep(40 * ms)
			return ExecResult{}, context.DeadlineExceeded
		}
		err := ForHealthy().Ready(context.Background(), u)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "timed out after 20ms")
	})
	t.Run("NONE and bad tests", func(t *testing.T) {
		for _, test := range [][]string{{"NONE"}, {}} {
			u := newUnscheduled(Healthcheck{Test: test}, 0)
			assert.ErrorIs(t, ForHealthy().Ready(context.Background(), u), ErrNoHealthcheck, "%q", test)
		}
		for _, test := range [][]string{{"CMD"}, {"CMD-SHELL"}, {"SHELL", "x"}} {
			u := newUnscheduled(Healthcheck{Test: test}, 0)
			err := ForHealthy().Ready(context.Background(), u)
			require.Error(t, err, "%q", test)
			assert.False(t, errors.Is(err, ErrNoHealthcheck))
			assert.Contains(t, err.Error(), "HEALTHCHECK test")
		}
	})
	t.Run("the container exits meanwhile", func(t *testing.T) {
		u := newUnscheduled(Healthcheck{Test: []string{"CMD", "probe"}, Interval: 10 * ms, Retries: 1000}, 1)
		go func() {
			time.Sleep(50 * ms)
			u.exit(3, false)
		}()
		var ee *ExitError
		require.ErrorAs(t, ForHealthy().Ready(context.Background(), u), &ee)
		assert.Equal(t, 3, ee.ExitCode)
	})
	t.Run("an engine that runs it is trusted", func(t *testing.T) {
		u := newUnscheduled(Healthcheck{Test: []string{"CMD", "probe"}, ByEngine: true}, 1)
		u.health = make(chan string, 1)
		u.health <- "healthy"
		require.NoError(t, ForHealthy().Ready(context.Background(), u))
		assert.Equal(t, 0, u.count())
	})
}
