//go:build !mutation

// Needs an engine: left out of mutation runs (scripts/mutation.sh).

package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/modules/postgres"
)

// A server with a schema, queried with pgx. Outside tests (TestMain,
// tools) the scope is a session, closed by the caller.
func Example() {
	ctx := context.Background()
	s, err := berth.NewSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close(ctx)

	pg, err := postgres.New(s).Database("orders").Tmpfs().
		InitSQL("CREATE TABLE orders (item text); INSERT INTO orders VALUES ('book');").
		StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, pg.DSN())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close(ctx)
	var item string
	if err := conn.QueryRow(ctx, "SELECT item FROM orders").Scan(&item); err != nil {
		log.Fatal(err)
	}
	fmt.Println(item)
	// Output: book
}

// In a test, Start fails the test on error and the server is removed when
// the test ends. database/sql works through pgx's stdlib driver.
func ExampleBuilder_Start() {
	var t *testing.T // the test's *testing.T
	h := berth.New(t)
	pg := postgres.New(h).
		Database("orders").
		InitScript("testdata/schema.sql").
		Config("max_connections", "50").
		Start()
	db, err := sql.Open("pgx", pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
}

// Snapshot once after the expensive setup, Restore before each step.
func ExampleContainer_Snapshot() {
	ctx := context.Background()
	s, err := berth.NewSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close(ctx)
	pg, err := postgres.New(s).Tmpfs().
		InitSQL("CREATE TABLE users (name text); INSERT INTO users VALUES ('ann'), ('bob');").
		StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if err := pg.Snapshot(ctx, "seeded"); err != nil {
		log.Fatal(err)
	}
	count := func() string {
		out, err := pg.Psql(ctx, "", "SELECT count(*) FROM users;")
		if err != nil {
			log.Fatal(err)
		}
		return out
	}
	if _, err := pg.Psql(ctx, "", "DELETE FROM users;"); err != nil {
		log.Fatal(err)
	}
	fmt.Print("after delete: ", count())
	if err := pg.Restore(ctx, "seeded"); err != nil {
		log.Fatal(err)
	}
	fmt.Print("after restore: ", count())
	// Output:
	// after delete: 0
	// after restore: 2
}

// Containers on the same network reach the server by alias.
func ExampleContainer_NetworkDSN() {
	var t *testing.T
	h := berth.New(t)
	net := h.Network("backend")
	pg := postgres.New(h).Network(net, "db").Start()
	h.Container("example/app:1").
		Env("DATABASE_URL", pg.NetworkDSN("db")).
		Network(net).
		Start()
}

// One server for the whole `go test ./...` run, holding the schema, and a
// private database per test cloned from it: parallel tests never see each
// other's rows, and a test waits milliseconds for its database.
func ExampleContainer_Clone() {
	var t *testing.T
	t.Parallel()
	h := berth.New(t)
	pg := postgres.New(h.Shared()).InitScript("testdata/schema.sql").Start()
	db := pg.Clone(t) // dropped in the background after the test
	conn, err := pgx.Connect(t.Context(), db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
}

// Migrations from your own tool fill a template, built once per key on
// the server (by whichever test binary gets there first); each test gets a
// clone of it.
func ExampleTemplate_Clone() {
	var t *testing.T
	h := berth.New(t)
	pg := postgres.New(h.Shared()).Start()
	migrate := func(ctx context.Context, dsn string) error {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "CREATE TABLE accounts (id serial PRIMARY KEY, name text)")
		return err
	}
	db := pg.Template("accounts-v1", migrate).Clone(t)
	fmt.Println(db.Name()) // berth_3f2a..._17
}

// Migrations that are part of the server: with warm starts they run once
// per key and are cached in the warm image, so later runs skip them.
func ExampleBuilder_Migrate() {
	var t *testing.T
	h := berth.New(t)
	pg := postgres.New(h.Shared()).
		Migrate("schema-v7", func(ctx context.Context, dsn string) error {
			// goose.Up, migrate.Up, atlas, or plain SQL through a driver
			return nil
		}).
		Start()
	db := pg.Clone(t)
	fmt.Println(db) // database berth_... (clone of berth_tpl_... on 127.0.0.1:49153, held by TestX)
}
