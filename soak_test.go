package berth_test

import (
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/testenv"
)

// soakCounts returns how many lifecycles the soak runs: the full 200
// sequential and 50 parallel with BERTH_SOAK=1 (make soak), a short slice
// otherwise.
func soakCounts() (sequential, parallel int) {
	if os.Getenv("BERTH_SOAK") == "1" {
		return 200, 50
	}
	return 10, 10
}

func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(entries)
}

// TestSoakNoGrowth runs many container lifecycles in one process and checks
// that goroutines, open files and heap return to where they were and that
// nothing is left on the engine.
func TestSoakNoGrowth(t *testing.T) {
	seq, par := soakCounts()
	h := berth.New(t)
	ctx := t.Context()
	cycle := func() error {
		c, err := h.Container(busybox).Cmd("sh", "-c", "echo up; exec sleep 3600").Port("8080/tcp").StartE(ctx)
		if err != nil {
			return err
		}
		if _, err := c.Exec(ctx, []string{"true"}); err != nil {
			return err
		}
		if _, err := c.MappedPort(ctx, "8080/tcp"); err != nil {
			return err
		}
		rc, err := c.Logs(ctx, false)
		if err != nil {
			return err
		}
		rc.Close()
		return c.Remove(ctx)
	}
	// One warm-up cycle so pools and lazily made state exist.
	require.NoError(t, cycle())
	runtime.GC()
	time.Sleep(200 * time.Millisecond)
	g0, fd0 := runtime.NumGoroutine(), openFDs(t)
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)

	for i := 0; i < seq; i++ {
		require.NoError(t, cycle(), "sequential cycle %d", i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, par)
	for i := 0; i < par; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cycle(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	testenv.Wire(h.Engine()).CloseIdle() // idle keep-alive connections are not a leak
	var g1, fd1 int
	require.Eventually(t, func() bool {
		runtime.GC()
		g1, fd1 = runtime.NumGoroutine(), openFDs(t)
		return g1 <= g0+2 && fd1 <= fd0+2
	}, 5*time.Second, 50*time.Millisecond, "goroutines %d→%d, fds %d→%d", g0, g1, fd0, fd1)
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	// Heap in use after GC may wobble; a leak of per-container state over
	// hundreds of cycles would exceed this bound.
	const bound = 8 << 20
	assert.Less(t, int64(m1.HeapInuse)-int64(m0.HeapInuse), int64(bound), "heap in use grew %d bytes", int64(m1.HeapInuse)-int64(m0.HeapInuse))
	t.Logf("%d sequential + %d parallel lifecycles: goroutines %d→%d, fds %d→%d, heap in use %d→%d", seq, par, g0, g1, fd0, fd1, m0.HeapInuse, m1.HeapInuse)

	left := testenv.Left(t, h.Engine(), h.Session().ID(), t.Name(), engine.KindContainer)
	assert.Empty(t, left)
}
