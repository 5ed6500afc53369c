package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/berth-go/berth/container"
)

// snapshotPrefix keeps snapshot databases apart from the user's. Snapshots
// need PostgreSQL 14 or newer (pg_terminate_backend with a timeout, DROP
// DATABASE ... WITH (FORCE)).
const snapshotPrefix = "berth_snapshot_"

// restoring is the name a restored copy has until it replaces the
// database.
const restoring = "berth_restoring"

var validSnapshot = regexp.MustCompile(`^[A-Za-z0-9_]{1,40}$`)

// Snapshot copies the database as it is now into a database of its own
// that accepts no connections, named after name (letters, digits and _),
// replacing an older snapshot of that name. For a small database it takes
// a few tens of milliseconds.
//
// A copy needs its source idle, so the server ends every open connection
// to the database first, and Restore does too. A client learns of it only
// when it next uses the connection: that one query fails with SQLSTATE
// 57P01 (admin_shutdown). Neither pgxpool nor database/sql checks a
// connection that was used less than a second ago, so do not keep
// connections across a Snapshot or Restore: take the snapshot before
// opening them, connect per sub-test, or drop the idle ones afterwards
// (pgxpool: pool.Reset(); database/sql: db.SetMaxIdleConns(0), then back
// to your limit). A connection held during the call is ended as well.
func (c *Container) Snapshot(ctx context.Context, name string) error {
	return c.maintain(ctx, "snapshot", name, func(conn *pgConn, snap string, fileCopy bool) error {
		db := ident(c.database)
		// New connections are refused while the copy runs, so none can
		// sneak in between the terminations and CREATE DATABASE.
		if _, err := conn.query(ctx, "ALTER DATABASE "+db+" WITH ALLOW_CONNECTIONS false"); err != nil {
			return fmt.Errorf("postgres: snapshot %q of %s: %w", name, c.database, err)
		}
		err := runAll(ctx, conn,
			"SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity WHERE datname = "+literal(c.database)+" AND pid <> pg_backend_pid()",
			"DROP DATABASE IF EXISTS "+ident(snap),
			createDatabase(ident(snap), db, fileCopy)+" ALLOW_CONNECTIONS false",
		)
		_, oerr := conn.query(context.WithoutCancel(ctx), "ALTER DATABASE "+db+" WITH ALLOW_CONNECTIONS true")
		if err = errors.Join(err, oerr); err != nil {
			return fmt.Errorf("postgres: snapshot %q of %s: %w", name, c.database, err)
		}
		return nil
	})
}

// Restore replaces the database with a copy of snapshot name. The
// snapshot stays, so a test can restore it again. The server ends the
// connections to the database: see Snapshot for what that means for pools.
func (c *Container) Restore(ctx context.Context, name string) error {
	return c.maintain(ctx, "restore", name, func(conn *pgConn, snap string, fileCopy bool) error {
		// The copy is made under a temporary name first, so a missing
		// snapshot leaves the database untouched.
		err := runAll(ctx, conn,
			"DROP DATABASE IF EXISTS "+ident(restoring),
			createDatabase(ident(restoring), ident(snap), fileCopy),
		)
		if err != nil {
			var se *ServerError
			if errors.As(err, &se) && se.Code == "3D000" { // invalid_catalog_name
				return fmt.Errorf("postgres: restore %q: no such snapshot: call Snapshot(ctx, %q) first: %w", name, name, err)
			}
			return fmt.Errorf("postgres: restore %q into %s: %w", name, c.database, err)
		}
		// FORCE closes the database's connections.
		err = runAll(ctx, conn,
			"DROP DATABASE IF EXISTS "+ident(c.database)+" WITH (FORCE)",
			"ALTER DATABASE "+ident(restoring)+" RENAME TO "+ident(c.database),
		)
		if err != nil {
			return fmt.Errorf("postgres: restore %q into %s: %w", name, c.database, err)
		}
		return nil
	})
}

// maintain runs step on a maintenance connection under the snapshot lock;
// snap is the database that holds snapshot name. op ("snapshot",
// "restore") starts the errors.
func (c *Container) maintain(ctx context.Context, op, name string, step func(conn *pgConn, snap string, fileCopy bool) error) error {
	snap, err := snapshotDB(name)
	if err != nil {
		return err
	}
	c.snapMu.Lock()
	defer c.snapMu.Unlock()
	conn, fileCopy, err := c.maintenance(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %s %q: %w", op, name, err)
	}
	defer conn.close()
	return step(conn, snap, fileCopy)
}

// maintenance connects as the superuser to a database other than the
// test database, and says whether CREATE DATABASE has STRATEGY FILE_COPY
// (PostgreSQL 15+, about twice as fast as WAL_LOG for a small database).
func (c *Container) maintenance(ctx context.Context) (*pgConn, bool, error) {
	db := "postgres"
	if c.database == "postgres" {
		db = "template1"
	}
	conn, err := dialPG(ctx, c.Addr(), c.user, c.password, db)
	if err != nil {
		return nil, false, err
	}
	rows, err := conn.query(ctx, "SHOW server_version_num")
	if err != nil {
		conn.close()
		return nil, false, err
	}
	v := 0
	if len(rows) == 1 && len(rows[0]) == 1 {
		v, _ = strconv.Atoi(rows[0][0])
	}
	return conn, v >= 150000, nil
}

func runAll(ctx context.Context, conn *pgConn, statements ...string) error {
	for _, s := range statements {
		if _, err := conn.query(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

func createDatabase(db, template string, fileCopy bool) string {
	s := "CREATE DATABASE " + db + " TEMPLATE " + template
	if fileCopy {
		s += " STRATEGY FILE_COPY"
	}
	return s
}

func snapshotDB(name string) (string, error) {
	if !validSnapshot.MatchString(name) {
		return "", fmt.Errorf("postgres: snapshot name %q: %w: use 1 to 40 letters, digits and _", name, ErrInvalidInput)
	}
	return snapshotPrefix + name, nil
}

// Psql runs script with psql inside the container as the superuser, on
// database db ("" for the test database), stopping at the first error. It
// returns psql's output (unaligned, tuples only). Use it for setup without
// a driver; tests usually connect with DSN.
func (c *Container) Psql(ctx context.Context, db, script string) (string, error) {
	if db == "" {
		db = c.database
	}
	res, err := c.ExecWith(ctx, []string{"psql", "-X", "-w", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-U", c.user, "-d", db, "-f", "-"},
		container.ExecOptions{Stdin: strings.NewReader(script), Env: map[string]string{"PGPASSWORD": c.password}})
	if err != nil {
		return "", err
	}
	if res.ExitCode != 0 {
		return string(res.Stdout), &PsqlError{ExitCode: res.ExitCode, Stderr: strings.TrimSpace(string(res.Stderr))}
	}
	return string(res.Stdout), nil
}

// PsqlError is a failed Psql run.
type PsqlError struct {
	ExitCode int
	Stderr   string
}

func (e *PsqlError) Error() string {
	return fmt.Sprintf("psql exited with %d: %s", e.ExitCode, e.Stderr)
}

// ident quotes a PostgreSQL identifier.
func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// literal quotes a PostgreSQL string literal.
func literal(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }
