package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// This file gives each test a private database cloned from a template
// (CREATE DATABASE ... TEMPLATE), the way IntegreSQL and pgtestdb do,
// inside the test binary: no extra server. A template is a database on the
// server marked IS_TEMPLATE and closed to connections; it is made once per
// server and input (the server's database, or that plus a migrate function
// under a user key) by whichever test binary gets there first, under an
// advisory lock. The binaries keep a few clones ready on the server in the
// background, which any of them takes (pool.go), so a test does not wait
// for CREATE DATABASE; each drops its tests' clones after them, in the
// background.

// maintenanceDB is the database the module's own connections use: not the
// user's database (a copy of it needs it idle) and not template1 (a plain
// CREATE DATABASE copies that).
const maintenanceDB = "berth_pool"

// templatePrefix names template databases: berth_tpl_<hash of inputs>.
const templatePrefix = "berth_tpl_"

// Migrate fills a template database: dsn points at it (sslmode=disable).
// It must close its connections before it returns. goose, golang-migrate,
// atlas or plain SQL through a driver all fit.
type Migrate func(ctx context.Context, dsn string) error

// Template is a template database on a server, from which Clone makes
// private databases. Make one with Container.Template; Container.Clone
// uses the server's own database as the template.
type Template struct {
	srv     *Container
	key     string
	migrate Migrate
	name    string
	size    int
}

// DefaultPoolSize is how many clones of a template are kept ready on the
// server for the test binaries sharing it, unless Template.PoolSize says
// otherwise.
const DefaultPoolSize = 4

// Template describes the template database made from the server's
// database with migrate run on it, keyed by key: the same key on the same
// server is built once, by the first test (of any test binary sharing the
// server) that needs it, and reused; another key makes another template.
// Change the key when the migrations change (a version, or a hash of the
// migration files): the module cannot look inside migrate.
//
// A template lives as long as its server. For a template reused across
// runs, give the server the migrations with Builder.Migrate instead: with
// warm starts they are part of the cached image.
func (c *Container) Template(key string, migrate Migrate) *Template {
	return &Template{srv: c, key: key, migrate: migrate, name: templateName(c.database, key), size: DefaultPoolSize}
}

// PoolSize sets how many clones are kept ready on the server (at least
// 1): this test binary makes clones while fewer are there, whoever made
// them. It matters only before the template's first clone in the binary.
func (t *Template) PoolSize(n int) *Template {
	t.size = max(n, 1)
	return t
}

// Name is the template database's name.
func (t *Template) Name() string { return t.name }

func templateName(database, key string) string {
	sum := sha256.Sum256([]byte(database + "\x00" + key))
	return templatePrefix + hex.EncodeToString(sum[:10])
}

// lockID is the advisory lock that serializes the making of database name.
func lockID(name string) int64 {
	sum := sha256.Sum256([]byte("berth-template\x00" + name))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// admin connects to the server's maintenance database, creating it (from
// template0, which never has connections) on first use.
func (c *Container) admin(ctx context.Context) (*pgConn, error) {
	conn, err := dialPG(ctx, c.Addr(), c.user, c.password, maintenanceDB)
	var se *ServerError
	if err == nil || !errors.As(err, &se) || se.Code != "3D000" { // invalid_catalog_name
		return conn, err
	}
	boot, err := dialPG(ctx, c.Addr(), c.user, c.password, "template1")
	if err != nil {
		return nil, err
	}
	_, err = boot.query(ctx, "CREATE DATABASE "+ident(maintenanceDB)+" TEMPLATE template0")
	boot.close()
	if err != nil && !(errors.As(err, &se) && (se.Code == "42P04" || se.Code == "23505")) { // made by another binary meanwhile
		return nil, fmt.Errorf("create %s: %w", maintenanceDB, err)
	}
	return dialPG(ctx, c.Addr(), c.user, c.password, maintenanceDB)
}

// ensure makes the template database unless it is there; every binary
// sharing the server calls it, one at a time (advisory lock), and only the
// first finds work to do. It also says how the server makes clones: with
// FILE_COPY or not, and in which tablespace.
func (t *Template) ensure(ctx context.Context) (fileCopy bool, tablespace string, err error) {
	c := t.srv
	conn, err := c.admin(ctx)
	if err != nil {
		return false, "", err
	}
	defer conn.close()
	fileCopy, err = serverHasFileCopy(ctx, conn)
	if err != nil {
		return false, "", err
	}
	tablespace = clonesTablespace(ctx, conn)
	if _, err := conn.query(ctx, "SELECT pg_advisory_lock("+strconv.FormatInt(lockID(t.name), 10)+")"); err != nil {
		return false, "", err
	}
	// The lock goes with the connection if this binary dies.
	defer conn.query(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+strconv.FormatInt(lockID(t.name), 10)+")")
	rows, err := conn.query(ctx, "SELECT datistemplate FROM pg_database WHERE datname = "+literal(t.name))
	if err != nil {
		return false, "", err
	}
	if len(rows) == 1 && rows[0][0] == "t" {
		return fileCopy, tablespace, nil
	}
	if len(rows) == 1 { // half made by a binary that died
		if _, err := conn.query(ctx, "DROP DATABASE "+ident(t.name)+" WITH (FORCE)"); err != nil {
			return false, "", err
		}
	}
	source := c.database
	if t.key != "" || t.migrate != nil {
		// On top of the server's database, through its template.
		base := c.Template("", nil)
		if _, err := base.ensureOnce(ctx); err != nil {
			return false, "", err
		}
		source = base.name
	}
	if err := copyDatabase(ctx, conn, t.name, source, fileCopy); err != nil {
		return false, "", err
	}
	if t.migrate != nil {
		if err := t.migrate(ctx, c.dsnFor(t.name, nil)); err != nil {
			conn.query(context.WithoutCancel(ctx), "DROP DATABASE "+ident(t.name)+" WITH (FORCE)")
			return false, "", fmt.Errorf("migrate: %w", err)
		}
	}
	// Closed to connections, so no stray one can make a clone fail.
	err = runAll(ctx, conn,
		"ALTER DATABASE "+ident(t.name)+" WITH ALLOW_CONNECTIONS false",
		"SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity WHERE datname = "+literal(t.name),
		"ALTER DATABASE "+ident(t.name)+" WITH IS_TEMPLATE true",
	)
	return fileCopy, tablespace, err
}

// copyDatabase makes dst a copy of src. A source with connections cannot
// be copied: it tries for a few seconds, then names who is connected.
func copyDatabase(ctx context.Context, conn *pgConn, dst, src string, fileCopy bool) error {
	deadline := time.Now().Add(5 * time.Second)
	for delay := 20 * time.Millisecond; ; delay = min(delay*2, 500*time.Millisecond) {
		_, err := conn.query(ctx, createDatabase(ident(dst), ident(src), fileCopy))
		var se *ServerError
		if err == nil || !errors.As(err, &se) || se.Code != "55006" || time.Now().After(deadline) { // object_in_use
			if err != nil && errors.As(err, &se) && se.Code == "55006" {
				who, _ := conn.query(ctx, "SELECT coalesce(nullif(application_name, ''), '?') || ' (pid ' || pid || ')' FROM pg_stat_activity WHERE datname = "+literal(src))
				err = fmt.Errorf("%w; connected to %s: %v (tests that take clones should not connect to the server's database)", err, src, who)
			}
			if err != nil {
				return fmt.Errorf("copy %s to %s: %w", src, dst, err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(delay):
		}
	}
}

func serverHasFileCopy(ctx context.Context, conn *pgConn) (bool, error) {
	rows, err := conn.query(ctx, "SHOW server_version_num")
	if err != nil {
		return false, err
	}
	v := 0
	if len(rows) == 1 && len(rows[0]) == 1 {
		v, _ = strconv.Atoi(rows[0][0])
	}
	return v >= 150000, nil
}

// dsnFor is the connection URL of database db on the server.
func (c *Container) dsnFor(db string, params []string) string {
	return pgURL(c.user, c.password, c.Addr(), db, params)
}

// templates of this process, by server address and template name: every
// handle on one server (a shared one is handed to each test anew) shares
// the template's pool.
var (
	templatesMu sync.Mutex
	templates   = map[string]*templateState{}
)

type templateState struct {
	mu         sync.Mutex
	ready      bool
	fileCopy   bool
	tablespace string // of the clones; "" for the default
	pool       *pool
}

func (t *Template) state() *templateState {
	templatesMu.Lock()
	defer templatesMu.Unlock()
	k := t.srv.Addr() + "/" + t.name
	s, ok := templates[k]
	if !ok {
		s = &templateState{}
		templates[k] = s
	}
	return s
}

// ensureOnce makes sure the template exists, once per process (an error
// is not kept: the next caller tries again).
func (t *Template) ensureOnce(ctx context.Context) (*templateState, error) {
	s := t.state()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready {
		return s, nil
	}
	fileCopy, tablespace, err := t.ensure(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: template %s (key %q) on %s: %w", t.name, t.key, t.srv.Addr(), err)
	}
	s.ready, s.fileCopy, s.tablespace = true, fileCopy, tablespace
	return s, nil
}

// clonesTablespaceName is the tablespace of the clones, in clonesDir.
const clonesTablespaceName = "berth_clones"

// clonesTablespace makes the clones' tablespace in clonesDir unless it is
// there, and names it; "" (the default tablespace) when it cannot be made,
// e.g. by a user who is no superuser: clones work there too, slower.
func clonesTablespace(ctx context.Context, conn *pgConn) string {
	rows, err := conn.query(ctx, "SELECT 1 FROM pg_tablespace WHERE spcname = "+literal(clonesTablespaceName))
	if err == nil && len(rows) == 1 {
		return clonesTablespaceName
	}
	// The directory must belong to the server's user: the server makes it.
	dir := clonesDir + "/ts"
	_, err = conn.query(ctx, "COPY (SELECT 1) TO PROGRAM "+literal("mkdir -p "+dir))
	if err == nil {
		_, err = conn.query(ctx, "CREATE TABLESPACE "+ident(clonesTablespaceName)+" LOCATION "+literal(dir))
	}
	var se *ServerError
	if err != nil && !(errors.As(err, &se) && se.Code == "42710") { // duplicate_object: another binary made it
		return ""
	}
	return clonesTablespaceName
}

// ensureMigrated runs migrate on the server's database unless a binary
// did already (a comment on the database records the key), one binary at
// a time.
func (c *Container) ensureMigrated(ctx context.Context, key string, migrate Migrate) error {
	conn, err := c.admin(ctx)
	if err != nil {
		return err
	}
	defer conn.close()
	lock := strconv.FormatInt(lockID("migrate\x00"+c.database), 10)
	if _, err := conn.query(ctx, "SELECT pg_advisory_lock("+lock+")"); err != nil {
		return err
	}
	defer conn.query(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+lock+")")
	marker := "berth-migrate:" + key
	rows, err := conn.query(ctx, "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = "+literal(c.database))
	if err != nil {
		return err
	}
	if len(rows) == 1 && rows[0][0] == marker {
		return nil
	}
	if err := migrate(ctx, c.DSN()); err != nil {
		return err
	}
	_, err = conn.query(ctx, "COMMENT ON DATABASE "+ident(c.database)+" IS "+literal(marker))
	return err
}
