package examples

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/modules/postgres"
)

// OrderRepo is the code under test: a tiny repository over pgx.
type OrderRepo struct{ db *pgx.Conn }

// Total returns the sum of a customer's orders.
func (r OrderRepo) Total(ctx context.Context, customer string) (int, error) {
	var total int
	err := r.db.QueryRow(ctx, `SELECT coalesce(sum(total_cents), 0) FROM orders WHERE customer = $1`, customer).Scan(&total)
	return total, err
}

// Add inserts an order.
func (r OrderRepo) Add(ctx context.Context, customer string, cents int) error {
	_, err := r.db.Exec(ctx, `INSERT INTO orders (customer, total_cents) VALUES ($1, $2)`, customer, cents)
	return err
}

// TestOrderRepository runs the repository against a real postgres with the
// schema from testdata, and uses a snapshot so each sub-test starts from the
// same data.
func TestOrderRepository(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	pg := postgres.New(h).Database("orders").InitScript("testdata/schema.sql").Start()
	require.NoError(t, pg.Snapshot(ctx, "seeded"))

	connect := func(t *testing.T) OrderRepo {
		conn, err := pgx.Connect(ctx, pg.DSN())
		require.NoError(t, err)
		t.Cleanup(func() { conn.Close(context.Background()) })
		return OrderRepo{db: conn}
	}
	adaTotal := func(t *testing.T, repo OrderRepo, want int) {
		t.Helper()
		total, err := repo.Total(ctx, "ada")
		require.NoError(t, err)
		assert.Equal(t, want, total)
	}

	t.Run("reads the seed data", func(t *testing.T) {
		adaTotal(t, connect(t), 1250)
	})
	t.Run("adds an order", func(t *testing.T) {
		repo := connect(t)
		require.NoError(t, repo.Add(ctx, "ada", 50))
		adaTotal(t, repo, 1300)
		require.NoError(t, repo.db.Close(ctx))
		require.NoError(t, pg.Restore(ctx, "seeded"))
	})
	t.Run("restored to the snapshot", func(t *testing.T) {
		adaTotal(t, connect(t), 1250)
	})
	t.Run("rejects a negative total", func(t *testing.T) {
		repo := connect(t)
		err := repo.Add(ctx, "grace", -1)
		var pgErr interface{ SQLState() string }
		require.True(t, errors.As(err, &pgErr), "want a postgres error, got %v", err)
		assert.Equal(t, "23514", pgErr.SQLState()) // check_violation
	})
}
