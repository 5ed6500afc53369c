//go:build !mutation

// Needs an engine: left out of mutation runs (scripts/mutation.sh).

package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/internal/tests/modtest"
	"github.com/berth-go/berth/modules/postgres"
)

func connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func queryStrings(t testing.TB, conn *pgx.Conn, sql string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return out
}

func TestInitScriptsAndAuth(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	pg := postgres.New(h).
		Database("orders").User("app").Password("s3cret pass/with:chars@").
		InitScript("testdata/schema.sql", "testdata/seed.sh").
		InitSQL("INSERT INTO orders (item, qty) VALUES ('from-sql', 1);").
		Start()

	assert.Equal(t, "orders", pg.Database())
	assert.Equal(t, "app", pg.User())
	assert.Equal(t, "127.0.0.1", pg.Host())
	assert.NotZero(t, pg.Port())
	assert.Equal(t, fmt.Sprintf("postgres://app:s3cret%%20pass%%2Fwith%%3Achars%%40@127.0.0.1:%d/orders?sslmode=disable", pg.Port()), pg.DSN())

	conn := connect(t, pg.DSN())
	// The scripts ran in the order given: the table first, then the rows.
	assert.Equal(t, []string{"from-shell", "from-sql"}, queryStrings(t, conn, "SELECT item FROM orders ORDER BY id"))
	assert.Equal(t, []string{"app"}, queryStrings(t, conn, "SELECT current_user::text"))

	// Connections from outside the container need the password.
	bad := strings.Replace(pg.DSN(), "s3cret%20pass", "wrong", 1)
	_, err := pgx.Connect(ctx, bad)
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	assert.Equal(t, "28P01", pgErr.Code, "invalid_password")

	// The secret stays out of the handle's String.
	assert.NotContains(t, fmt.Sprint(pg), "s3cret")
	assert.NotContains(t, fmt.Sprintf("%+v", pg), "s3cret")

	out, err := pg.Psql(ctx, "", "SELECT count(*) FROM orders;")
	require.NoError(t, err)
	assert.Equal(t, "2\n", out)
	_, err = pg.Psql(ctx, "", "SELECT * FROM no_such_table;")
	var pe *postgres.PsqlError
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, pe.Stderr, "no_such_table")
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	pg := postgres.New(h).Cold().Start()
	assert.Equal(t, "postgres", pg.Database())
	assert.Equal(t, "test", pg.User())
	// The default database is initdb's own: the entrypoint creates none.
	out, err := pg.LogsSnapshot(t.Context())
	require.NoError(t, err)
	assert.NotContains(t, string(out.Stdout)+string(out.Stderr), "CREATE DATABASE")
	assert.Len(t, pg.Password(), 24, "a random password when cold")
	conn := connect(t, pg.ConnString("application_name=berth-test"))
	assert.Equal(t, []string{"berth-test"}, queryStrings(t, conn, "SHOW application_name"))
	assert.Equal(t, []string{"off"}, queryStrings(t, conn, "SHOW fsync"))
	other := postgres.New(h).Cold().Spec()
	assert.NotEqual(t, pg.Password(), other.Env["POSTGRES_PASSWORD"], "each cold server gets its own password")
	if berth.WarmEnabled() {
		assert.Equal(t, postgres.WarmPassword, postgres.New(h).Spec().Env["POSTGRES_PASSWORD"], "warm starts need a stable password")
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	pg := postgres.New(h).
		Config("max_connections", "42").
		Config("work_mem", "1MB").
		Config("work_mem", "8MB"). // the last call wins
		Config("fsync", "on").
		Config("application_name", "two words").
		Start()
	conn := connect(t, pg.DSN())
	for setting, want := range map[string]string{"max_connections": "42", "work_mem": "8MB", "fsync": "on", "application_name": "two words"} {
		assert.Equal(t, []string{want}, queryStrings(t, conn, "SHOW "+setting), setting)
	}
}

func TestTmpfs(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	pg := postgres.New(h).Tmpfs().InitSQL("CREATE TABLE t (x int); INSERT INTO t VALUES (7);").Start()
	d, err := pg.Inspect(ctx)
	require.NoError(t, err)
	assert.Contains(t, d.Mounts, "tmpfs:→/var/lib/postgresql/data")
	res, err := pg.Exec(ctx, []string{"sh", "-c", "grep ' /var/lib/postgresql/data ' /proc/mounts | cut -d' ' -f3"})
	require.NoError(t, err)
	assert.Equal(t, "tmpfs\n", string(res.Stdout))
	conn := connect(t, pg.DSN())
	assert.Equal(t, []string{"7"}, queryStrings(t, conn, "SELECT x::text FROM t"))
}

func TestSnapshotRestore(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	pg := postgres.New(h).Database("shop").Tmpfs().
		InitSQL("CREATE TABLE items (name text); INSERT INTO items VALUES ('apple'), ('pear');").
		Start()

	// An open connection does not block the snapshot; it is closed.
	conn := connect(t, pg.DSN())
	require.NoError(t, pg.Snapshot(ctx, "seeded"))
	require.Error(t, conn.Ping(ctx), "Snapshot closes connections to the database")

	conn = connect(t, pg.DSN())
	_, err := conn.Exec(ctx, "DELETE FROM items WHERE name = 'apple'; INSERT INTO items VALUES ('plum'); CREATE TABLE extra (x int)")
	require.NoError(t, err)
	assert.Equal(t, []string{"pear", "plum"}, queryStrings(t, conn, "SELECT name FROM items ORDER BY name"))

	require.NoError(t, pg.Restore(ctx, "seeded"))
	conn = connect(t, pg.DSN())
	assert.Equal(t, []string{"apple", "pear"}, queryStrings(t, conn, "SELECT name FROM items ORDER BY name"))
	assert.Equal(t, []string{"0"}, queryStrings(t, conn, "SELECT count(*)::text FROM pg_tables WHERE tablename = 'extra'"))

	// The snapshot stays: change and restore again.
	_, err = conn.Exec(ctx, "TRUNCATE items")
	require.NoError(t, err)
	conn.Close(ctx)
	require.NoError(t, pg.Restore(ctx, "seeded"))
	conn = connect(t, pg.DSN())
	assert.Equal(t, []string{"apple", "pear"}, queryStrings(t, conn, "SELECT name FROM items ORDER BY name"))

	// Taking a snapshot again under the same name replaces it.
	_, err = conn.Exec(ctx, "INSERT INTO items VALUES ('kiwi')")
	require.NoError(t, err)
	require.NoError(t, pg.Snapshot(ctx, "seeded"))
	require.NoError(t, pg.Restore(ctx, "seeded"))
	conn = connect(t, pg.DSN())
	assert.Equal(t, []string{"apple", "kiwi", "pear"}, queryStrings(t, conn, "SELECT name FROM items ORDER BY name"))

	// Snapshots are not databases a test would connect to by mistake, and
	// the user can still connect after all of this.
	assert.Equal(t, []string{"postgres", "shop"}, queryStrings(t, conn,
		"SELECT datname::text FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1"))

	err = pg.Restore(ctx, "never-taken")
	require.ErrorIs(t, err, postgres.ErrInvalidInput)
	err = pg.Restore(ctx, "never_taken")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no such snapshot")
	// A failed restore leaves the database as it was.
	conn = connect(t, pg.DSN())
	assert.Equal(t, []string{"apple", "kiwi", "pear"}, queryStrings(t, conn, "SELECT name FROM items ORDER BY name"))

	for _, name := range []string{"", "a b", "x;drop", strings.Repeat("a", 41), `q"uote`} {
		assert.ErrorIs(t, pg.Snapshot(ctx, name), postgres.ErrInvalidInput, "%q", name)
	}

	// Calls from several goroutines take turns.
	var g errgroup.Group
	for i := range 3 {
		g.Go(func() error { return pg.Snapshot(ctx, fmt.Sprint("c", i)) })
		g.Go(func() error { return pg.Restore(ctx, "seeded") })
	}
	require.NoError(t, g.Wait())
	for i := range 3 {
		require.NoError(t, pg.Restore(ctx, fmt.Sprint("c", i)))
	}
}

func TestSnapshotOfPostgresDatabase(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	pg := postgres.New(h).Database("postgres").Tmpfs().InitSQL("CREATE TABLE t (x int); INSERT INTO t VALUES (1);").Start()
	require.NoError(t, pg.Snapshot(ctx, "one"))
	_, err := pg.Psql(ctx, "", "INSERT INTO t VALUES (2);")
	require.NoError(t, err)
	require.NoError(t, pg.Restore(ctx, "one"))
	out, err := pg.Psql(ctx, "", "SELECT count(*) FROM t;")
	require.NoError(t, err)
	assert.Equal(t, "1\n", out)
}

func TestParallelInstances(t *testing.T) {
	t.Parallel()
	modtest.Instances(t, 3, func(t *testing.T, i int) {
		h := berth.New(t)
		pg := postgres.New(h).Tmpfs().InitSQL("CREATE TABLE mine (v text);").Start()
		conn := connect(t, pg.DSN())
		_, err := conn.Exec(t.Context(), "INSERT INTO mine VALUES ($1)", fmt.Sprint("instance-", i))
		require.NoError(t, err)
		assert.Equal(t, []string{fmt.Sprint("instance-", i)}, queryStrings(t, conn, "SELECT v FROM mine"),
			"each test has a server of its own")
	})
}

func TestNetworkDSN(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	net := h.Network("pg")
	pg := postgres.New(h).Network(net, "db").Start()
	dsn := pg.NetworkDSN("db")
	assert.True(t, strings.HasPrefix(dsn, "postgres://test:"), dsn)
	assert.True(t, strings.HasSuffix(dsn, "@db:5432/postgres?sslmode=disable"), dsn)
	// Another container on the network reaches the server by alias.
	out := modtest.ExecOnNetwork(t, h, net, postgres.DefaultImage, "psql", "-X", "-tAc", "SELECT 40 + 2", dsn)
	assert.Equal(t, "42\n", out)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	modtest.BadInput(t, func(h *berth.Harness) *postgres.Builder { return postgres.New(h).Password(modtest.Secret) }, (*postgres.Builder).StartE, []modtest.Case[*postgres.Builder]{
		{Name: "empty database", Build: func(b *postgres.Builder) *postgres.Builder { return b.Database("") }, Want: "Database"},
		{Name: "quote in user", Build: func(b *postgres.Builder) *postgres.Builder { return b.User(`a"b`) }, Want: "User"},
		{Name: "long database", Build: func(b *postgres.Builder) *postgres.Builder { return b.Database(strings.Repeat("d", 64)) }, Want: "63-byte"},
		{Name: "empty password", Build: func(b *postgres.Builder) *postgres.Builder { return b.Password("") }, Want: "Password"},
		{Name: "bad setting", Build: func(b *postgres.Builder) *postgres.Builder { return b.Config("max connections", "1") }, Want: "setting name"},
		{Name: "missing script", Build: func(b *postgres.Builder) *postgres.Builder { return b.InitScript("testdata/nope.sql") }, Want: "does not exist"},
		{Name: "script dir", Build: func(b *postgres.Builder) *postgres.Builder { return b.InitScript("testdata") }, Want: "directory"},
		{Name: "empty image", Build: func(b *postgres.Builder) *postgres.Builder { return b.Image("") }, Want: "Image"},
	})
}

func TestFailedStart(t *testing.T) {
	t.Parallel()
	// Fail-fast is told by the error, not the clock: a loaded machine may
	// take long to run initdb, never the whole ctx.
	modtest.FailedStarts(t, 90*time.Second, func(h *berth.Harness) *postgres.Builder { return postgres.New(h).Password(modtest.Secret) }, (*postgres.Builder).StartE, []modtest.Case[*postgres.Builder]{
		// The init script fails: the entrypoint exits, and the wait says so
		// at once instead of running into its timeout.
		{Name: "broken init script", Build: func(b *postgres.Builder) *postgres.Builder { return b.InitSQL("SELEKT 1;") }},
		{Name: "unknown setting", Build: func(b *postgres.Builder) *postgres.Builder { return b.Config("no_such_setting", "1") }},
		{Name: "missing image", Build: func(b *postgres.Builder) *postgres.Builder { return b.Image("berth-test/no-such-postgres:1") }, Want: "no-such-postgres"},
	})
}

func TestSession(t *testing.T) {
	t.Parallel()
	modtest.GoneWithSession(t, func(ctx context.Context, s *berth.Session) (*postgres.Container, error) {
		return postgres.New(s).Tmpfs().StartE(ctx)
	}, func(ctx context.Context, pg *postgres.Container) error {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, pg.DSN())
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		var one string
		if err := conn.QueryRow(ctx, "SELECT 1::text").Scan(&one); err != nil {
			return err
		}
		if one != "1" {
			return fmt.Errorf("SELECT 1 returned %q", one)
		}
		return nil
	})
}

// BenchmarkStartToReady measures New(...).Start() until SELECT 1 works.
func BenchmarkStartToReady(b *testing.B) {
	for _, tmpfs := range []bool{false, true} {
		b.Run(fmt.Sprint("tmpfs=", tmpfs), func(b *testing.B) {
			modtest.StartToReady(b, func(h *berth.Harness, ctx context.Context) (*postgres.Container, error) {
				bl := postgres.New(h)
				if tmpfs {
					bl.Tmpfs()
				}
				return bl.StartE(ctx)
			})
		})
	}
}

// BenchmarkSnapshotRestore measures one Snapshot and one Restore of a small
// database; each should stay under 150 ms.
func BenchmarkSnapshotRestore(b *testing.B) {
	h := berth.New(b)
	ctx := b.Context()
	pg := postgres.New(h).Tmpfs().
		InitSQL("CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 1000) g;").
		Start()
	var snap, restore time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := pg.Snapshot(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := pg.Restore(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
		snap += t1.Sub(t0)
		restore += time.Since(t1)
	}
	b.ReportMetric(float64(snap.Milliseconds())/float64(b.N), "ms/snapshot")
	b.ReportMetric(float64(restore.Milliseconds())/float64(b.N), "ms/restore")
}

// The module's own protocol client (readiness, snapshots) copes with each
// host authentication method the image can be told to use.
func TestAuthMethods(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"scram-sha-256", "md5", "password", "trust"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			h := berth.New(t)
			ctx := t.Context()
			b := postgres.New(h).Tmpfs().Env("POSTGRES_HOST_AUTH_METHOD", method).Password("pw-" + method).
				InitSQL("CREATE TABLE t (x int); INSERT INTO t VALUES (1);")
			if method == "md5" {
				// Stored as MD5, so the server asks for MD5, not SCRAM.
				b.InitSQL("SET password_encryption = 'md5'; ALTER USER test PASSWORD 'pw-md5';")
			}
			pg := b.Start()
			require.NoError(t, pg.Snapshot(ctx, "s"))
			require.NoError(t, pg.Restore(ctx, "s"))
			conn := connect(t, pg.DSN())
			assert.Equal(t, []string{"1"}, queryStrings(t, conn, "SELECT x::text FROM t"))
			out, err := pg.Psql(ctx, "", `SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host' AND address = 'all';`)
			require.NoError(t, err)
			assert.Contains(t, out, method)
			if method == "md5" {
				out, err := pg.Psql(ctx, "", "SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = 'test';")
				require.NoError(t, err)
				assert.Equal(t, "md5\n", out)
			}
		})
	}
}

// TestSnapshotWithPools follows Snapshot's advice for pools that outlive
// a Snapshot or Restore: after pool.Reset (pgxpool) and after dropping
// the idle connections (database/sql) the first query works and sees the
// restored data.
func TestSnapshotWithPools(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	pg := postgres.New(h).Database("pools").Start()
	pool, err := pgxpool.New(ctx, pg.DSN())
	require.NoError(t, err)
	defer pool.Close()
	db, err := sql.Open("pgx", pg.DSN())
	require.NoError(t, err)
	defer db.Close()
	_, err = pool.Exec(ctx, "CREATE TABLE t (n int); INSERT INTO t VALUES (1)")
	require.NoError(t, err)
	var n int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n))

	reconnect := func(what string, want int) {
		t.Helper()
		pool.Reset()
		db.SetMaxIdleConns(0)
		db.SetMaxIdleConns(2)
		var got int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&got), "pgxpool, first query after %s and Reset", what)
		assert.Equal(t, want, got)
		require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&got), "database/sql, first query after %s with the idle connections dropped", what)
		assert.Equal(t, want, got)
	}
	require.NoError(t, pg.Snapshot(ctx, "one"))
	reconnect("Snapshot", 1)
	_, err = pool.Exec(ctx, "INSERT INTO t VALUES (2)")
	require.NoError(t, err)
	require.NoError(t, pg.Restore(ctx, "one"))
	reconnect("Restore", 1)
}
