//go:build !mutation

// Needs an engine: left out of mutation runs (scripts/mutation.sh).

package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/internal/tests/modtest"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/modules/postgres"
)

func TestWarmStart(t *testing.T) {
	ctx := t.Context()
	schema := func(nonce string) string {
		return "CREATE TABLE items (name text); INSERT INTO items VALUES ('" + nonce + "');"
	}
	var h *berth.Harness
	warm, nonce, log := modtest.WarmStart(t, func(hh *berth.Harness, nonce string) *postgres.Container {
		h = hh
		return postgres.New(h).Database("shop").InitSQL(schema(nonce)).Start()
	})
	res := warm.WarmResult()
	d, err := warm.Inspect(ctx)
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(d.Image, res.Image), d.Image)
	assert.NotContains(t, log, "PostgreSQL init process complete", "no initdb on a warm start")
	assert.NotContains(t, log, "running /docker-entrypoint-initdb.d")

	conn := connect(t, warm.DSN())
	var got string
	require.NoError(t, conn.QueryRow(ctx, "SELECT name FROM items").Scan(&got))
	assert.Equal(t, nonce, got, "data from the init script is there")

	// Snapshot/Restore keep working on a warm start (both end open
	// connections).
	require.NoError(t, warm.Snapshot(ctx, "base"))
	conn = connect(t, warm.DSN())
	_, err = conn.Exec(ctx, "DELETE FROM items")
	require.NoError(t, err)
	conn.Close(ctx)
	require.NoError(t, warm.Restore(ctx, "base"))
	conn = connect(t, warm.DSN())
	require.NoError(t, conn.QueryRow(ctx, "SELECT name FROM items").Scan(&got))
	assert.Equal(t, nonce, got)

	// A changed init script is another cache entry.
	forget := testenv.RemoveImages(t)
	changed := postgres.New(h).Database("shop").InitSQL(schema(nonce) + " INSERT INTO items VALUES ('more');").Start()
	res3 := changed.WarmResult()
	require.NotNil(t, res3)
	forget(res3.Image)
	assert.False(t, res3.Hit)
	assert.NotEqual(t, res.Hash, res3.Hash)
	require.NoError(t, res3.Filled(ctx)) // before its removal at cleanup

	// Cold and Tmpfs start without the cache.
	assert.Nil(t, postgres.New(h).Cold().Start().WarmResult())
}

// BenchmarkWarmStart measures postgres ready + SELECT 1 from the warm cache.
func BenchmarkWarmStart(b *testing.B) {
	h := berth.New(b)
	ctx := context.Background()
	first, err := postgres.New(h).Database("bench").StartE(ctx)
	require.NoError(b, err)
	first.Remove(ctx)
	for b.Loop() {
		c, err := postgres.New(h).Database("bench").StartE(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		c.Remove(ctx)
		b.StartTimer()
	}
}

// BenchmarkFirstRun compares the start that fills the warm cache (a new
// input every round) with a cold start of such an input: the fill runs in
// a container of its own in the background, so the test waits about as
// long as a cold start.
func BenchmarkFirstRun(b *testing.B) {
	nonce := fmt.Sprintf("-- %d\n", time.Now().UnixNano())
	for _, mode := range []string{"cold", "filling"} {
		b.Run(mode, func(b *testing.B) {
			h := berth.New(b)
			ctx := context.Background()
			forget := testenv.RemoveImages(b)
			round := 0
			for b.Loop() {
				round++
				pb := postgres.New(h).Database("bench").InitSQL(nonce + fmt.Sprintf("CREATE TABLE t%s%d (x int);", mode, round))
				if mode == "cold" {
					pb = pb.Cold()
				}
				c, err := pb.StartE(ctx)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if res := c.WarmResult(); res != nil {
					if err := res.Filled(ctx); err != nil {
						b.Fatal(err)
					}
					forget(res.Image)
				}
				c.Remove(ctx)
				b.StartTimer()
			}
		})
	}
}
