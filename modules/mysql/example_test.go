package mysql_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/modules/mysql"
)

// A database with a schema from an init script, used through
// go-sql-driver/mysql. Outside tests the scope is a session, closed by the
// caller.
func Example() {
	ctx := context.Background()
	s, err := berth.NewSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close(ctx)

	my, err := mysql.New(s).Database("shop").
		InitSQL("CREATE TABLE items (name VARCHAR(32)); INSERT INTO items VALUES ('apple');").
		StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	db, err := sql.Open("mysql", my.DSN("parseTime=true"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	var name string
	if err := db.QueryRowContext(ctx, "SELECT name FROM items").Scan(&name); err != nil {
		log.Fatal(err)
	}
	fmt.Println(name)
	// Output: apple
}

// In a test, Start fails the test on error and the server is removed when
// the test ends.
func ExampleBuilder_Start() {
	var t *testing.T // the test's *testing.T
	h := berth.New(t)
	my := mysql.New(h).Database("orders").InitScript("testdata/schema.sql").
		Config("max_connections", "50").Start()
	db, _ := sql.Open("mysql", my.DSN())
	defer db.Close()
}
