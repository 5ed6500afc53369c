package wait

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/cenkalti/backoff/v4"
)

// SQLStrategy waits until a database answers a query.
type SQLStrategy struct {
	port   string
	driver string
	dsn    func(host string, port int) string
	query  string
}

// ForSQL waits until `SELECT 1` succeeds through database/sql with driver
// (registered by the caller, e.g. pgx's "pgx") on the DSN dsn builds from
// the mapped address. Credentials the server refuses (SQLSTATE class 28,
// as reported by drivers whose errors have a SQLState method, like pgx)
// end the wait at once.
func ForSQL(port, driver string, dsn func(host string, port int) string) *SQLStrategy {
	return &SQLStrategy{port: port, driver: driver, dsn: dsn, query: "SELECT 1"}
}

// credentialsRefused reports an error whose SQLSTATE is of class 28,
// invalid authorization (28P01: wrong password), through the SQLState
// method of the drivers that have one (pgx, lib/pq).
func credentialsRefused(err error) (string, bool) {
	var se interface{ SQLState() string }
	if errors.As(err, &se) && strings.HasPrefix(se.SQLState(), "28") {
		return se.SQLState(), true
	}
	return "", false
}

// Query replaces `SELECT 1`.
func (s *SQLStrategy) Query(q string) *SQLStrategy { s.query = q; return s }

// String describes the wait.
func (s *SQLStrategy) String() string {
	return fmt.Sprintf("sql %s %q on %s", s.driver, s.query, s.port)
}

// Validate reports a bad port, a missing or unregistered driver, a missing
// DSN function or an empty query.
func (s *SQLStrategy) Validate() error {
	call := fmt.Sprintf("ForSQL(%q, %q, dsn)", s.port, s.driver)
	portBad := portProblem(s.port)
	switch {
	case portBad != "":
		return invalid(call, "port: %s", portBad)
	case s.driver == "":
		return invalid(call, `no database/sql driver name: give the registered name, e.g. "pgx"`)
	case !slices.Contains(sql.Drivers(), s.driver):
		return invalid(call, `database/sql driver %q is not registered: import its package, e.g. _ "github.com/jackc/pgx/v5/stdlib" for "pgx"`, s.driver)
	case s.dsn == nil:
		return invalid(call, "no DSN function: give one that builds the DSN from the mapped host and port")
	case s.query == "":
		return invalid(call, "Query(\"\"): give a query, or leave Query out for SELECT 1")
	}
	return nil
}

// Ready blocks until the query succeeds.
func (s *SQLStrategy) Ready(ctx context.Context, t Target) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return run(ctx, t, s.String(), func(ctx context.Context, seen *observation) error {
		host, mapped, err := endpoint(ctx, t, s.port)
		if err != nil {
			return err
		}
		db, err := sql.Open(s.driver, s.dsn(host, mapped))
		if err != nil {
			return fmt.Errorf("sql driver %q: %w (import and register it, e.g. _ \"github.com/jackc/pgx/v5/stdlib\")", s.driver, err)
		}
		defer db.Close()
		addr := net.JoinHostPort(host, strconv.Itoa(mapped))
		return unwrapPermanent(poll(ctx, func() error {
			_, err := db.ExecContext(ctx, s.query)
			if err != nil {
				// Never the DSN: it carries the password.
				seen.set("query on %s: %v", addr, err)
			}
			if code, ok := credentialsRefused(err); ok {
				return backoff.Permanent(fmt.Errorf("%s on %s: the server refused the credentials (SQLSTATE %s), which no retry mends: check the user and password the DSN gives: %w", s, addr, code, err))
			}
			return err
		}))
	})
}
