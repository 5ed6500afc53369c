//go:build !mutation

// Needs an engine: left out of mutation runs (scripts/mutation.sh).

package postgres

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
)

// TestPoolSharedAcrossBinaries: two pools of one template stand for two
// test binaries sharing a server. The second takes the clones the first
// made without making one, what is taken is no longer ready, the server
// holds about size ready clones whoever fills, and parallel takers never
// get one clone twice.
func TestPoolSharedAcrossBinaries(t *testing.T) {
	pg := New(berth.New(t)).InitSQL("CREATE TABLE items (name text);").Start()
	ctx := t.Context()
	tpl := pg.Template("", nil)
	s, err := tpl.ensureOnce(ctx)
	require.NoError(t, err)
	conn, err := pg.admin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { conn.close() })

	const size = 3
	first := newPool(pg, tpl.name, s.fileCopy, size, "aaaaaaaa")
	ready := func() []string {
		names, err := first.readyNames(ctx, conn)
		require.NoError(t, err)
		return names
	}
	// settled is how many are ready once the fillers have stopped: at
	// least size, then unchanged for two seconds.
	settled := func() int {
		n, same := -1, 0
		for deadline := time.Now().Add(60 * time.Second); same < 10 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if m := len(ready()); m == n && m >= size {
				same++
			} else {
				n, same = m, 0
			}
		}
		return n
	}
	first.start()
	n := settled()
	assert.GreaterOrEqual(t, n, size, "the first binary fills the server's pool")
	assert.LessOrEqual(t, n, size+fillers-1, "and stops there: fillers overshoot by less than one clone each")

	second := newPool(pg, tpl.name, s.fileCopy, size, "bbbbbbbb")
	var (
		mu    sync.Mutex
		taken = map[string]bool{}
		wg    sync.WaitGroup
	)
	for range size { // claim, not take: the second's fillers stay off
		wg.Go(func() {
			name, err := second.claim(ctx)
			assert.NoError(t, err)
			mu.Lock()
			taken[name] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	require.Len(t, taken, size, "a clone per take")
	for name := range taken {
		assert.Contains(t, name, "_aaaaaaaa_", "the second binary took the first's clones")
		assert.NotContains(t, ready(), strings.Replace(name, "berth_"+first.short+"_", first.ready, 1), "a taken clone is not ready any more")
	}
	// Taken clones are real databases, and the pool fills up again.
	rows, err := conn.query(ctx, "SELECT count(*) FROM pg_database WHERE datname = "+literal(firstKey(taken)))
	require.NoError(t, err)
	assert.Equal(t, "1", rows[0][0])
	second.start()
	n = settled()
	assert.GreaterOrEqual(t, n, size, "the pool fills again")
	assert.LessOrEqual(t, n, size+2*fillers-1, "two binaries' fillers overshoot by less than one clone each")
}

func firstKey(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}
