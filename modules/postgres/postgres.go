// Package postgres starts throw-away PostgreSQL servers for tests, ready
// for queries when Start returns, with init scripts, server settings and
// fast snapshots of the database between test steps.
//
//	func TestOrders(t *testing.T) {
//		h := berth.New(t)
//		pg := postgres.New(h).Database("orders").InitScript("testdata/schema.sql").Start()
//		db, err := sql.Open("pgx", pg.DSN())
//		...
//	}
//
// The image is expected to behave like the official postgres image:
// POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB, scripts in
// /docker-entrypoint-initdb.d, and psql inside. The module links no
// database driver: readiness checks and snapshots speak the PostgreSQL
// protocol themselves (SCRAM-SHA-256, MD5 or cleartext passwords), and Psql
// runs psql inside the container.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/modules/modkit"
	"github.com/berth-go/berth/wait"
)

// DefaultImage is the image New uses.
const DefaultImage = "postgres:15-bookworm"

// Port is the port the server listens on inside the container.
const Port = "5432/tcp"

// ReadyLog is the line the server logs when it accepts connections. The
// official image logs it twice on a fresh data directory: once for the
// server that runs the init scripts, once for the real one.
const ReadyLog = "database system is ready to accept connections"

const dataDir = "/var/lib/postgresql/data"

// clonesDir is a tmpfs that holds the tablespace of Clone's databases: a
// suite's clones are written and dropped by the hundred, and in memory
// they never wait for the disk.
const clonesDir = "/var/lib/postgresql/berth-clones"

// ErrInvalidInput is matched (errors.Is) by errors for bad builder input
// and bad snapshot names; it is modkit.ErrInvalidInput.
var ErrInvalidInput = modkit.ErrInvalidInput

// Scope is where the container is made: a *berth.Harness in a test (the
// container is removed when the test ends) or a *berth.Session.
type Scope = berth.Scope

// Builder describes a PostgreSQL server. Each method records the first
// bad input; Start reports it, StartE returns it.
type Builder struct {
	s        Scope
	database string
	user     string
	password string
	config   modkit.Settings
	inits    modkit.InitScripts
	tmpfs    bool
	onDisk   bool // clones on the data directory's disk, not in memory
	cold     bool
	shared   bool // made in a *berth.Shared scope
	// Migrate's key and function.
	migrateKey string
	migrate    Migrate
	// Image, Err and the container builder's common calls: Env, Network
	// (other containers reach the server at alias:5432, see NetworkDSN),
	// Label, Name, Memory, Customize. The image must behave like the
	// official one.
	modkit.Base[*Builder]
}

// WarmPassword is the default password while warm starts are on, and of
// a server in a *berth.Shared scope: the password is part of the cached
// state (and of what makes test binaries share a server), so a random one
// would never hit the cache. Set Password for another. It is
// modkit.WarmPassword.
const WarmPassword = modkit.WarmPassword

// warmDataDir holds the data under warm starts: not the image's VOLUME, so
// a commit keeps it.
const warmDataDir = "/var/lib/postgresql/warm-data"

// New starts describing a server in scope s: image DefaultImage, database
// "postgres", user "test", a random password, fsync off (a test server need
// not survive a power cut).
//
// Warm starts are on by default (off with Cold, Tmpfs or BERTH_WARM=0): the
// first start with given inputs (image, user, password, database, settings,
// init scripts) commits the initialized server as a berth-cache image and
// later starts skip initdb and the init scripts. The password then defaults
// to WarmPassword instead of a random one.
func New(s Scope) *Builder {
	b := &Builder{s: s, database: DefaultDatabase, user: "test"}
	_, b.shared = s.(*berth.Shared)
	b.password = modkit.DefaultPassword(berth.WarmEnabled() || b.shared)
	b.config.Set("fsync", "off")
	b.Base = modkit.NewBase(b, "postgres", DefaultImage)
	return b
}

// Cold turns warm starts off: initdb and the init scripts run on every
// start, and the default password is random.
func (b *Builder) Cold() *Builder {
	if !b.cold && b.password == WarmPassword && !b.shared {
		b.password = modkit.RandomPassword()
	}
	b.cold = true
	return b
}

func (b *Builder) warm() bool { return !b.cold && !b.tmpfs && berth.WarmEnabled() }

// DefaultDatabase is the database a server gets unless Database names
// another: the one initdb makes, so a cold start runs no CREATE DATABASE
// (which costs 0.3-0.5 s on a small machine, before the server is ready).
const DefaultDatabase = "postgres"

// Database names the database created at start (default DefaultDatabase).
func (b *Builder) Database(name string) *Builder {
	return b.Set("Database", &b.database, name, checkName)
}

// User names the superuser created at start (default "test").
func (b *Builder) User(name string) *Builder { return b.Set("User", &b.user, name, checkName) }

// Password sets the user's password (default: random).
func (b *Builder) Password(password string) *Builder {
	return b.Set("Password", &b.password, password, modkit.CheckPassword)
}

// checkName: the entrypoint quotes names with " and ' in its SQL.
func checkName(name string) error { return modkit.CheckName(name, 63, "\x00\"'\\") }

// InitScript copies host files (.sql, .sql.gz, .sh) into
// /docker-entrypoint-initdb.d; the server runs them once, at first start,
// in the order given (across InitScript and InitSQL calls), against
// Database as User.
func (b *Builder) InitScript(files ...string) *Builder {
	return b.Check("InitScript", b.inits.AddFiles(files...))
}

// Migrate runs migrate on the server's database once its init scripts
// ran, before Start returns: goose, golang-migrate, atlas or your own code,
// given the database's DSN. key names the migrations (a version, or a hash
// of the migration files) since the module cannot look inside migrate:
// change it when they change. With warm starts on, the migrated state is
// part of the cached image, so later runs with the same key skip the
// migrations; the server's database, and so Clone's template, holds them.
// Binaries sharing a server run them once, under an advisory lock.
func (b *Builder) Migrate(key string, migrate Migrate) *Builder {
	switch {
	case key == "":
		return b.Fail("Migrate", "give a key that changes when the migrations change")
	case migrate == nil:
		return b.Fail("Migrate", "the migrate function is nil")
	}
	b.migrateKey, b.migrate = key, migrate
	return b
}

// InitSQL runs sql once at first start, like an InitScript file.
func (b *Builder) InitSQL(sql string) *Builder { b.inits.AddSQL(sql); return b }

// validSetting is the shape of a server setting's name, including
// extension settings such as pg_stat_statements.max.
var validSetting = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// Config sets a server setting (postgres -c key=value), e.g.
// Config("max_connections", "200"). A later call for the same key wins.
func (b *Builder) Config(key, value string) *Builder {
	if !validSetting.MatchString(key) {
		return b.Fail("Config", "%q is not a setting name (letters, digits and _, e.g. shared_buffers)", key)
	}
	if strings.ContainsRune(value, 0) {
		return b.Fail("Config", "the value of %s contains NUL", key)
	}
	b.config.Set(key, value)
	return b
}

// Tmpfs keeps the data directory in memory: faster writes, and nothing on
// disk to clean up. A tmpfs is not kept by a commit, so it means Cold.
func (b *Builder) Tmpfs() *Builder { b.tmpfs = true; return b.Cold() }

// ClonesOnDisk keeps the databases Clone makes on the server's disk. By
// default they live in a tmpfs of the container (host memory, up to half
// of it): a suite writes and drops them by the hundred, and in memory
// they never wait for the disk. Use ClonesOnDisk when tests put more data
// into their clones than the host's memory holds, or restart the server
// and clone from it afterwards (a restart empties the tmpfs).
func (b *Builder) ClonesOnDisk() *Builder { b.onDisk = true; return b }

// Spec returns the container's description as Start would use it.
func (b *Builder) Spec() container.Spec { return b.Describe(b.containerBuilder).Spec() }

func (b *Builder) containerBuilder() *berth.ContainerBuilder {
	// listen_addresses: the official image sets it in postgresql.conf;
	// an image built on a distribution's defaults listens on localhost only.
	cmd := []string{"postgres", "-c", "listen_addresses=*"}
	for key, value := range b.config.All() {
		cmd = append(cmd, "-c", key+"="+value)
	}
	c := b.s.Container(b.ImageRef()).
		Env("POSTGRES_USER", b.user).
		Env("POSTGRES_PASSWORD", b.password).
		Env("POSTGRES_DB", b.database).
		Cmd(cmd...).
		Port(Port).
		WaitFor(b.readiness())
	if !b.onDisk {
		c.TmpfsMount(clonesDir, 0)
	}
	b.inits.ApplyTo(c)
	if b.tmpfs {
		c.TmpfsMount(dataDir, 0)
	}
	if b.migrate != nil {
		// Part of the spec: another key is another server.
		c.Env("BERTH_MIGRATE_KEY", b.migrateKey)
	}
	if b.warm() {
		c.Env("PGDATA", warmDataDir).Warm("berth-postgres-v1")
		if b.migrate != nil {
			c.WarmSetup(func(ctx context.Context, bc *berth.Container) error {
				at, err := modkit.AddressOf(ctx, bc, Port)
				if err != nil {
					return err
				}
				srv := &Container{Container: bc, Address: at, database: b.database, user: b.user, password: b.password}
				return srv.ensureMigrated(ctx, b.migrateKey, b.migrate)
			})
		}
	}
	return c
}

// StartE starts the server and waits until it accepts queries over TCP; on
// failure it removes the container and returns the error.
func (b *Builder) StartE(ctx context.Context) (*Container, error) {
	c, at, err := b.StartContainer(ctx, b.containerBuilder, Port)
	if err != nil {
		return nil, err
	}
	srv := &Container{Container: c, Address: at, database: b.database, user: b.user, password: b.password}
	if b.migrate != nil {
		if err := srv.ensureMigrated(ctx, b.migrateKey, b.migrate); err != nil {
			if !b.shared {
				c.Remove(context.WithoutCancel(ctx))
			}
			return nil, fmt.Errorf("postgres: migrate %q: %w", b.migrateKey, err)
		}
	}
	return srv, nil
}

// Start is StartE for tests: in a *berth.Harness an error fails the test;
// in a session it panics (use StartE there).
func (b *Builder) Start() *Container {
	if tb := b.s.T(); tb != nil {
		tb.Helper()
	}
	return modkit.Must(b.s, b.StartE)
}

// readiness runs SELECT 1 through the mapped port as the user, from the
// first ready line on: at once on every ready line (see modkit.Probe). The
// init server listens on the Unix socket only, so the query cannot pass
// before the real server (after the init scripts) is up, and it proves the
// port, the password and the database. A warm start logs the ready line
// once, a cold one twice; both pass the same way.
func (b *Builder) readiness() wait.Strategy {
	user, password, database := b.user, b.password, b.database
	return modkit.Probe{Log: ReadyLog, Port: Port, Name: "SELECT 1",
		Try: func(ctx context.Context, addr string) error { return selectOne(ctx, addr, user, password, database) }}
}

// selectOne runs SELECT 1 as user. A refused login is Permanent: waiting
// will not help.
func selectOne(ctx context.Context, addr, user, password, database string) error {
	conn, err := dialPG(ctx, addr, user, password, database)
	var se *ServerError
	// invalid_password, invalid_authorization_specification
	if errors.As(err, &se) && (se.Code == "28P01" || se.Code == "28000") {
		return modkit.Permanent(err)
	}
	if err != nil {
		return err
	}
	defer conn.close()
	rows, err := conn.query(ctx, "SELECT 1")
	if err != nil {
		return err
	}
	if len(rows) != 1 || len(rows[0]) != 1 || rows[0][0] != "1" {
		return fmt.Errorf("SELECT 1 returned %q", rows)
	}
	return nil
}

// Container is a started server. It embeds the container handle (Exec,
// Logs, Stop, ...) and the Address of 5432 (Host, Port, Addr) where the
// test reaches it.
type Container struct {
	*berth.Container
	modkit.Address
	database string
	user     string
	password string
	snapMu   sync.Mutex // Snapshot and Restore share a temporary database
}

// Database is the database created at start.
func (c *Container) Database() string { return c.database }

// User is the superuser created at start.
func (c *Container) User() string { return c.user }

// Password is the user's password.
func (c *Container) Password() string { return c.password }

// DSN is the connection URL of the database from the test:
// postgres://user:password@host:port/database?sslmode=disable.
func (c *Container) DSN() string { return c.ConnString() }

// ConnString is DSN with extra parameters ("key=value", e.g.
// "application_name=orders"); sslmode=disable unless given.
func (c *Container) ConnString(params ...string) string {
	return c.url(c.Addr(), params)
}

// NetworkDSN is the connection URL for other containers on a network where
// this server has alias: postgres://user:password@alias:5432/database.
func (c *Container) NetworkDSN(alias string, params ...string) string {
	return c.url(modkit.NetworkAddr(alias, Port), params)
}

func (c *Container) url(hostPort string, params []string) string {
	return pgURL(c.user, c.password, hostPort, c.database, params)
}

func pgURL(user, password, hostPort, database string, params []string) string {
	q := url.Values{}
	for _, p := range params {
		k, v, _ := strings.Cut(p, "=")
		q.Add(k, v)
	}
	if !q.Has("sslmode") {
		q.Set("sslmode", "disable")
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password), Host: hostPort, Path: "/" + database, RawQuery: q.Encode()}
	return u.String()
}
