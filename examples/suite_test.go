package examples

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/modules/postgres"
	"github.com/berth-go/berth/modules/redis"
)

// ordersDB is the pattern for many packages with many tests: one postgres
// server shared by every test binary of the `go test ./...` run (h.Shared),
// holding the schema, and a private database per test cloned from it in
// milliseconds. Every package that asks for the same server with the same
// inputs gets the same one; it is removed when the run ends.
func ordersDB(t *testing.T) OrderRepo {
	t.Helper()
	h := berth.New(t)
	pg := postgres.New(h.Shared()).Database("orders").InitScript("testdata/schema.sql").Start()
	db := pg.Clone(t) // dropped in the background after the test
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, db.DSN())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return OrderRepo{db: conn}
}

// TestOrdersIsolated: parallel tests, each writing to a database nobody
// else sees, each starting from the seed rows.
func TestOrdersIsolated(t *testing.T) {
	for _, customer := range []string{"ada", "grace", "linus", "barbara"} {
		t.Run(customer, func(t *testing.T) {
			t.Parallel()
			repo := ordersDB(t)
			ctx := t.Context()
			require.NoError(t, repo.Add(ctx, "new", 100))
			var orders int
			require.NoError(t, repo.db.QueryRow(ctx, "SELECT count(*) FROM orders").Scan(&orders))
			assert.Equal(t, 3, orders, "the two seed rows and this test's")
		})
	}
}

// TestCachesIsolated: one redis server for the run, a logical database per
// test, emptied when the test ends.
func TestCachesIsolated(t *testing.T) {
	for _, key := range []string{"a", "b", "c"} {
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			h := berth.New(t)
			rd := redis.New(h.Shared()).Start()
			opts, err := goredis.ParseURL(rd.DB(t).URL())
			require.NoError(t, err)
			c := goredis.NewClient(opts)
			defer c.Close()
			ctx := t.Context()
			n, err := c.DBSize(ctx).Result()
			require.NoError(t, err)
			assert.Zero(t, n, "nobody else's keys")
			require.NoError(t, c.Set(ctx, key, "1", 0).Err())
		})
	}
}
