package berth_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
)

// A log consumer gets every line from the container's first start through
// a restart, each once and in order, stdout and stderr apart.
func TestLogToFollowsTheWholeLife(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	var mu sync.Mutex
	var got []string
	lines := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), got...) }
	c := h.Container(busybox).
		Cmd("sh", "-c", "echo run; echo err >&2; for i in 1 2 3; do echo line$i; done; exec sleep 600").
		StopTimeout(time.Second).
		LogTo(func(l container.LogLine) {
			mu.Lock()
			got = append(got, l.Stream+":"+l.Text)
			mu.Unlock()
		}).
		Start()
	first := []string{"stdout:run", "stderr:err", "stdout:line1", "stdout:line2", "stdout:line3"}
	if !assert.Eventually(t, func() bool { return len(lines()) >= len(first) }, 20*time.Second, 20*time.Millisecond) {
		t.Fatalf("first run: %v", lines())
	}
	require.NoError(t, c.Restart(ctx, time.Second))
	if !assert.Eventually(t, func() bool { return len(lines()) >= 2*len(first) }, 30*time.Second, 20*time.Millisecond) {
		t.Fatalf("after the restart: %v", lines())
	}
	time.Sleep(500 * time.Millisecond) // nothing more may come
	all := lines()
	require.Len(t, all, 2*len(first), "each line once: %v", all)
	for run := range 2 {
		part := all[run*len(first) : (run+1)*len(first)]
		// stderr and stdout are separate streams: only stdout's order is
		// promised against itself.
		var out []string
		for _, l := range part {
			if strings.HasPrefix(l, "stdout:") {
				out = append(out, l)
			}
		}
		assert.Equal(t, []string{"stdout:run", "stdout:line1", "stdout:line2", "stdout:line3"}, out, "run %d", run+1)
		assert.Contains(t, part, "stderr:err", "run %d", run+1)
	}
}

// LogToTest writes into the test's log and ends before the test does: a
// t.Log after the test would panic.
func TestLogToTest(t *testing.T) {
	t.Parallel()
	t.Run("inner", func(t *testing.T) {
		h := berth.New(t)
		h.Container(busybox).Cmd("sh", "-c", "echo hello-from-logtotest; exec sleep 600").LogToTest().Start()
		time.Sleep(300 * time.Millisecond)
	})
}
