//go:build !mutation

// Needs an engine: left out of mutation runs (scripts/mutation.sh).

package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/modules/postgres"
)

const threeRows = "CREATE TABLE items (name text); INSERT INTO items VALUES ('a'), ('b'), ('c');"

// databases lists the databases on the server whose names start with
// prefix.
func databases(t testing.TB, pg *postgres.Container, prefix string) []string {
	t.Helper()
	return queryStrings(t, connect(t, pg.DSN()), "SELECT datname FROM pg_database WHERE datname LIKE '"+prefix+"%' ORDER BY 1")
}

// TestClone: parallel tests each get a database of their own holding the
// init script's rows; what one writes the others do not see; each is
// dropped after its test.
func TestClone(t *testing.T) {
	h := berth.New(t)
	pg := postgres.New(h).InitSQL(threeRows).Start()
	const n = 6
	var mu sync.Mutex
	names := map[string]bool{}
	t.Run("group", func(t *testing.T) {
		for i := range n {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				db := pg.Clone(t)
				mu.Lock()
				names[db.Name()] = true
				mu.Unlock()
				assert.Contains(t, db.String(), t.Name())
				assert.NotContains(t, fmt.Sprintf("%v %+v %#v %s", db, db, db, db), pg.Password())
				conn := connect(t, db.DSN())
				ctx := t.Context()
				_, err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO items SELECT 'x%d' FROM generate_series(1, %d)", i, i+1))
				require.NoError(t, err)
				var count int
				require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM items").Scan(&count))
				assert.Equal(t, 3+i+1, count, "only this test's rows")
				var app string
				require.NoError(t, conn.QueryRow(ctx, "SELECT current_setting('application_name')").Scan(&app))
				assert.Equal(t, t.Name(), app)
			})
		}
	})
	assert.Len(t, names, n, "a database per test")
	// The clones live in a tablespace on a tmpfs of the container.
	db := pg.Clone(t)
	assert.Equal(t, []string{"berth_clones"}, queryStrings(t, connect(t, db.DSN()),
		"SELECT spcname FROM pg_tablespace t JOIN pg_database d ON d.dattablespace = t.oid WHERE d.datname = current_database()"))
	fs, err := pg.Exec(t.Context(), []string{"stat", "-f", "-c", "%T", "/var/lib/postgresql/berth-clones/ts"})
	require.NoError(t, err)
	assert.Equal(t, "tmpfs", strings.TrimSpace(string(fs.Stdout)))
	hasTmpfs := func(spec container.Spec) bool {
		for _, m := range spec.Mounts {
			if m.Type == container.MountTmpfs && m.Target == "/var/lib/postgresql/berth-clones" {
				return true
			}
		}
		return false
	}
	assert.True(t, hasTmpfs(postgres.New(h).Spec()))
	assert.False(t, hasTmpfs(postgres.New(h).ClonesOnDisk().Spec()), "ClonesOnDisk: no tmpfs")
	// Dropped in the background after each test.
	require.Eventually(t, func() bool {
		for _, d := range databases(t, pg, "berth_") {
			if names[d] {
				return false
			}
		}
		return true
	}, 20*time.Second, 100*time.Millisecond)
	// The server's own database is untouched.
	assert.Equal(t, []string{"a", "b", "c"}, queryStrings(t, connect(t, pg.DSN()), "SELECT name FROM items ORDER BY 1"))
}

// TestCloneWaits: once the pool is warm a clone is taken without waiting
// for a CREATE DATABASE: a clone handed out was ready on the server before
// the take (berth_<tpl>_r_... renamed to berth_<tpl>_...). The fillers run
// beside the test, so a clone they finish between the test's look and the
// take's own may be handed out: that take is not counted, and three of at
// most ten must be. A pool whose takes wait for a CREATE fails them all.
// The waits are logged, not asserted: under CI load a take's two round
// trips vary (bench -suite measures them).
func TestCloneWaits(t *testing.T) {
	h := berth.New(t)
	pg := postgres.New(h).InitSQL(threeRows).Start()
	tpl := pg.Template("", nil).PoolSize(3)
	first := tpl.Clone(t)
	t.Logf("first clone (template + first CREATE DATABASE): %v", first.Waited())
	var waits []time.Duration
	found := 0
	for try := 0; try < 10 && found < 3; try++ {
		require.Eventually(t, func() bool { return len(readyClones(t, pg)) >= 3 }, 30*time.Second, 50*time.Millisecond, "the pool fills")
		ready := readyClones(t, pg)
		d := tpl.Clone(t)
		waits = append(waits, d.Waited())
		if slices.Contains(ready, d.Name()) {
			found++
		} else {
			t.Logf("%s was made after the test's look; not counted", d.Name())
		}
	}
	assert.Equal(t, 3, found, "takes that handed out a clone ready before them")
	t.Logf("warm pool waits: %v", waits)
}

// readyClones lists the ready clones on the server by the names they get
// when taken (berth_<tpl>_r_<rest> becomes berth_<tpl>_<rest>).
func readyClones(t testing.TB, pg *postgres.Container) []string {
	var out []string
	for _, d := range databases(t, pg, "berth_") {
		if strings.Contains(d, "_r_") {
			out = append(out, strings.Replace(d, "_r_", "_", 1))
		}
	}
	return out
}

// TestTemplateMigrate: a keyed template runs its migrate once however many
// clones are taken; another key makes another template; a failing migrate
// says so and leaves no template.
func TestTemplateMigrate(t *testing.T) {
	h := berth.New(t)
	pg := postgres.New(h).InitSQL(threeRows).Start()
	var calls atomic.Int32
	migrate := func(version string) postgres.Migrate {
		return func(ctx context.Context, dsn string) error {
			calls.Add(1)
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			_, err = conn.Exec(ctx, "ALTER TABLE items ADD COLUMN version text DEFAULT '"+version+"'")
			return err
		}
	}
	v1 := pg.Template("v1", migrate("v1"))
	for range 3 {
		db := v1.Clone(t)
		assert.Equal(t, []string{"v1", "v1", "v1"}, queryStrings(t, connect(t, db.DSN()), "SELECT version FROM items"))
	}
	assert.Equal(t, int32(1), calls.Load())
	// Another handle, same key: the same template.
	assert.Equal(t, v1.Name(), pg.Template("v1", migrate("v1")).Name())
	pg.Template("v1", migrate("v1")).Clone(t)
	assert.Equal(t, int32(1), calls.Load())

	v2 := pg.Template("v2", migrate("v2"))
	assert.NotEqual(t, v1.Name(), v2.Name())
	db := v2.Clone(t)
	assert.Equal(t, []string{"v2", "v2", "v2"}, queryStrings(t, connect(t, db.DSN()), "SELECT version FROM items"))
	assert.Equal(t, int32(2), calls.Load())

	broken := pg.Template("broken", func(ctx context.Context, dsn string) error { return errors.New("migration 3 failed") })
	_, err := broken.CloneE(t.Context(), "TestTemplateMigrate")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "migration 3 failed")
	assert.Contains(t, err.Error(), `key "broken"`)
	assert.Empty(t, databases(t, pg, broken.Name()), "no half-made template")
}

// failingTB is a test that failed, recording what is logged.
type failingTB struct {
	testing.TB
	mu       sync.Mutex
	logs     []string
	cleanups []func()
}

func (f *failingTB) Failed() bool { return true }
func (f *failingTB) Logf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}
func (f *failingTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

// TestCloneFailureNamesDatabase: a failed test's log says which database
// it held.
func TestCloneFailureNamesDatabase(t *testing.T) {
	h := berth.New(t)
	pg := postgres.New(h).Start()
	ft := &failingTB{TB: t}
	db := pg.Clone(ft)
	for _, fn := range ft.cleanups {
		fn()
	}
	require.Len(t, ft.logs, 1)
	assert.Contains(t, ft.logs[0], db.Name())
	assert.Contains(t, ft.logs[0], t.Name())
	assert.NotContains(t, ft.logs[0], pg.Password())
}

// TestMigrate: Builder.Migrate runs before Start returns, once per key
// however many starts share a server, and clones hold its result.
func TestMigrate(t *testing.T) {
	h := berth.New(t)
	var calls atomic.Int32
	migrate := func(ctx context.Context, dsn string) error {
		calls.Add(1)
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, threeRows)
		return err
	}
	pg := postgres.New(h).Cold().Migrate("items-v1", migrate).Start()
	assert.Equal(t, int32(1), calls.Load())
	db := pg.Clone(t)
	assert.Equal(t, []string{"a", "b", "c"}, queryStrings(t, connect(t, db.DSN()), "SELECT name FROM items ORDER BY 1"))

	_, err := postgres.New(h).Migrate("", migrate).StartE(t.Context())
	require.ErrorIs(t, err, postgres.ErrInvalidInput)
	_, err = postgres.New(h).Cold().Migrate("fails", func(context.Context, string) error { return errors.New("bad migration") }).StartE(t.Context())
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "bad migration") && strings.Contains(err.Error(), `"fails"`), err.Error())
}
