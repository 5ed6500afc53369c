package postgres

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/berth-go/berth/container"
)

// snapshotPrefix keeps snapshot databases apart from the user's. Snapshots
// need PostgreSQL 14 or newer (pg_terminate_backend with a timeout, DROP
// DATABASE ... WITH (FORCE)).
const snapshotPrefix = "berth_snapshot_"

var validSnapshot = regexp.MustCompile(`^[A-Za-z0-9_]{1,40}$`)

// Snapshot copies the database as it is now into a database of its own
// that accepts no connections, named after name (letters, digits and _),
// replacing an older snapshot of that name. Connections to the database are closed first (a copy needs
// the source idle); pools reconnect on their own. It takes a few tens of
// milliseconds for a small database.
func (c *Container) Snapshot(ctx context.Context, name string) error {
	snap, err := snapshotDB(name)
	if err != nil {
		return err
	}
	db := ident(c.database)
	// New connections are refused while the copy runs, so none can sneak
	// in between the terminations and CREATE DATABASE.
	script := fmt.Sprintf(`%[4]s
ALTER DATABASE %[1]s WITH ALLOW_CONNECTIONS false;
SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity WHERE datname = %[2]s AND pid <> pg_backend_pid();
DROP DATABASE IF EXISTS %[3]s;
%[5]s
ALTER DATABASE %[1]s WITH ALLOW_CONNECTIONS true;
`, db, literal(c.database), ident(snap), detectFileCopy, createDatabase(ident(snap), db, "ALLOW_CONNECTIONS false"))
	if _, err := c.Psql(ctx, c.maintenanceDB(), script); err != nil {
		// Open the database again if the script stopped half way.
		c.Psql(context.WithoutCancel(ctx), c.maintenanceDB(), fmt.Sprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS true;", db))
		return fmt.Errorf("postgres: snapshot %q of %s: %w", name, c.database, err)
	}
	return nil
}

// Restore replaces the database with a copy of snapshot name, closing the
// connections to it. The snapshot stays, so a test can restore it again.
func (c *Container) Restore(ctx context.Context, name string) error {
	snap, err := snapshotDB(name)
	if err != nil {
		return err
	}
	// The copy is made under a temporary name first so a missing snapshot
	// leaves the database untouched; FORCE closes its connections.
	tmp := ident("berth_restoring")
	script := fmt.Sprintf(`%[4]s
DROP DATABASE IF EXISTS %[3]s;
%[5]s
DROP DATABASE %[1]s WITH (FORCE);
ALTER DATABASE %[3]s RENAME TO %[1]s;
`, ident(c.database), ident(snap), tmp, detectFileCopy, createDatabase(tmp, ident(snap), ""))
	if _, err := c.Psql(ctx, c.maintenanceDB(), script); err != nil {
		if strings.Contains(err.Error(), "does not exist") && strings.Contains(err.Error(), snap) {
			return fmt.Errorf("postgres: restore %q: no such snapshot: call Snapshot(ctx, %q) first: %w", name, name, err)
		}
		return fmt.Errorf("postgres: restore %q into %s: %w", name, c.database, err)
	}
	return nil
}

// detectFileCopy sets the psql variable file_copy on PostgreSQL 15 and
// newer, where CREATE DATABASE ... STRATEGY FILE_COPY copies a small
// database in about half the time of the default WAL_LOG.
const detectFileCopy = `SELECT current_setting('server_version_num')::int >= 150000 AS file_copy \gset`

// createDatabase is a psql script part creating db from template, with
// FILE_COPY where the server has it.
func createDatabase(db, template, options string) string {
	return fmt.Sprintf(`\if :file_copy
CREATE DATABASE %[1]s TEMPLATE %[2]s STRATEGY FILE_COPY %[3]s;
\else
CREATE DATABASE %[1]s TEMPLATE %[2]s %[3]s;
\endif`, db, template, options)
}

func snapshotDB(name string) (string, error) {
	if !validSnapshot.MatchString(name) {
		return "", fmt.Errorf("postgres: snapshot name %q: %w: use 1 to 40 letters, digits and _", name, ErrInvalidInput)
	}
	return snapshotPrefix + name, nil
}

// maintenanceDB is the database psql connects to for work on the test
// database, which must not be the one connected to.
func (c *Container) maintenanceDB() string {
	if c.database == "postgres" {
		return "template1"
	}
	return "postgres"
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
