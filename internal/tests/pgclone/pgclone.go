// Package pgclone is what the generated suites of postgres clones share:
// modules/postgres's test across binaries and the bench's suite rows. Each
// test's database starts from Schema, and Isolated checks the test sees its
// own rows and none of another test's.
//
// The generated modules import it, so their module path is under berth's
// (testenv.SuiteModule): it is internal. It imports nothing of berth's.
package pgclone

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Schema makes the table items with three rows.
const Schema = "CREATE TABLE items (name text); INSERT INTO items VALUES ('a'), ('b'), ('c');"

// Isolated adds a row to items in the database at dsn (made from Schema)
// and fails t unless items then holds four rows: Schema's three and its
// own, none another test added.
func Isolated(t testing.TB, dsn string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "INSERT INTO items VALUES ('mine')"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM items").Scan(&n); err != nil || n != 4 {
		t.Fatalf("count %d, %v: another test's rows are visible", n, err)
	}
}
