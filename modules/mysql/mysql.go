// Package mysql starts throw-away MySQL or MariaDB servers for tests, ready
// for logins when Start returns, with init scripts and server settings.
//
//	func TestOrders(t *testing.T) {
//		h := berth.New(t)
//		db := mysql.New(h).Database("orders").InitScript("testdata/schema.sql").Start()
//		conn, err := sql.Open("mysql", db.DSN()) // github.com/go-sql-driver/mysql
//		...
//	}
//
// The image is expected to behave like the official mysql or mariadb
// image: MYSQL_ROOT_PASSWORD, MYSQL_DATABASE, MYSQL_USER and MYSQL_PASSWORD
// (the mariadb image also reads them), scripts in
// /docker-entrypoint-initdb.d, the server's datadir taken from its
// arguments, and the mysql client inside. The default image is MariaDB
// (Image("mysql:8.0") for MySQL). The module links no database driver:
// readiness speaks the MySQL protocol itself (a login, then COM_PING).
package mysql

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/modules/modkit"
)

// DefaultImage is the image New uses.
const DefaultImage = "mariadb:10.11"

// Port is the port the server listens on inside the container.
const Port = "3306/tcp"

// ReadyLog is part of the line MySQL and MariaDB log when they accept
// connections. The official images log it twice on a fresh data
// directory: once for the server that runs the init scripts (no TCP), once
// for the real one.
const ReadyLog = "ready for connections"

// WarmPassword is the default password while warm starts are on: the
// password is part of the cached state, so a random one would never hit
// the cache. Set Password for another. It is modkit.WarmPassword.
const WarmPassword = modkit.WarmPassword

// warmDataDir holds the data under warm starts: not the image's VOLUME, so
// a commit keeps it. The official images take the datadir from the
// server's arguments.
const warmDataDir = "/var/lib/berth-mysql"

// ErrInvalidInput is matched (errors.Is) by errors for bad builder input;
// it is modkit.ErrInvalidInput.
var ErrInvalidInput = modkit.ErrInvalidInput

// Builder describes a MySQL or MariaDB server. Each method records the
// first bad input; Start reports it, StartE returns it.
type Builder struct {
	s        modkit.Scope
	database string
	user     string
	password string
	config   modkit.Settings
	inits    modkit.InitScripts
	cold     bool
	tzTables bool
	// Image, Err and the container builder's common calls: Env, Network
	// (other containers reach the server at alias:3306, see NetworkDSN),
	// Label, Name, Memory, Customize. The image must behave like the
	// official mysql or mariadb image.
	modkit.Base[*Builder]
}

// New starts describing a server in scope s: image DefaultImage, database
// "test", user "test" (with all rights on it; root has the same password),
// a random password, no time zone tables (see TimeZoneTables).
//
// Warm starts are on by default (off with Cold or BERTH_WARM=0): the first
// start with given inputs (image, user, password, database, settings, init
// scripts) commits the initialized server as a berth-cache image and later
// starts skip the initialization and the init scripts. The password then
// defaults to WarmPassword instead of a random one.
func New(s modkit.Scope) *Builder {
	b := &Builder{s: s, database: "test", user: "test", password: modkit.DefaultPassword(berth.WarmEnabled())}
	b.Base = modkit.NewBase(b, "mysql", DefaultImage)
	return b
}

// Cold turns warm starts off: the initialization and the init scripts run
// on every start, and the default password is random.
func (b *Builder) Cold() *Builder {
	if !b.cold && b.password == WarmPassword {
		b.password = modkit.RandomPassword()
	}
	b.cold = true
	return b
}

func (b *Builder) warm() bool { return !b.cold && berth.WarmEnabled() }

// checkName: the entrypoint quotes names with ` and ' in its SQL, and a
// database is a directory.
func checkName(name string) error { return modkit.CheckName(name, 64, "\x00`'\"\\/") }

// Database names the database created at start (default "test").
func (b *Builder) Database(name string) *Builder {
	return b.Set("Database", &b.database, name, checkName)
}

// User names the user created at start with all rights on Database
// (default "test"). "root" makes no user: the DSN then logs in as root.
func (b *Builder) User(name string) *Builder { return b.Set("User", &b.user, name, checkUser) }

func checkUser(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if len(name) > 32 {
		return fmt.Errorf("%q is longer than 32 characters", name)
	}
	if strings.ContainsAny(name, ":@") {
		// The DSN's user part ends at the first ':'.
		return fmt.Errorf("%q contains ':' or '@', which the DSN cannot carry", name)
	}
	return nil
}

// Password sets the user's and root's password (default: random).
func (b *Builder) Password(password string) *Builder {
	return b.Set("Password", &b.password, password, modkit.CheckPassword)
}

// InitScript copies host files (.sql, .sql.gz, .sh) into
// /docker-entrypoint-initdb.d; the server runs them once, at first start,
// in the order given (across InitScript and InitSQL calls), against
// Database as root.
func (b *Builder) InitScript(files ...string) *Builder {
	return b.Check("InitScript", b.inits.AddFiles(files...))
}

// InitSQL runs sql once at first start, like an InitScript file.
func (b *Builder) InitSQL(sql string) *Builder { b.inits.AddSQL(sql); return b }

var validKey = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// Config sets a server option as mariadbd/mysqld --key=value, e.g.
// Config("max_connections", "50"). A later call for the same key wins.
func (b *Builder) Config(key, value string) *Builder {
	if !validKey.MatchString(key) {
		return b.Fail("Config", "%q is not an option name (lower-case letters, digits, _ and -, e.g. max_connections)", key)
	}
	if key == "datadir" {
		return b.Fail("Config", "the module sets datadir itself")
	}
	if strings.ContainsRune(value, 0) {
		return b.Fail("Config", "the value of %s contains NUL", key)
	}
	b.config.Set(key, value)
	return b
}

// TimeZoneTables loads the time zone tables at initialization, as the
// official images do by default, so named zones work (CONVERT_TZ(t,
// 'UTC', 'Europe/Paris'), SET time_zone = 'Asia/Tokyo'). The module
// leaves them out unless asked: loading them costs about 4 s of a 7 s cold
// start here.
func (b *Builder) TimeZoneTables() *Builder { b.tzTables = true; return b }

// Spec returns the container's description as Start would use it.
func (b *Builder) Spec() container.Spec { return b.Describe(b.containerBuilder).Spec() }

func (b *Builder) containerBuilder() *berth.ContainerBuilder {
	// Options only: the image's entrypoint puts its server program
	// (mariadbd or mysqld) in front of a first argument starting with '-'.
	var cmd []string
	if b.warm() {
		cmd = append(cmd, "--datadir="+warmDataDir)
	}
	for key, value := range b.config.All() {
		cmd = append(cmd, "--"+key+"="+value)
	}
	c := b.s.Container(b.ImageRef()).
		Env("MYSQL_ROOT_PASSWORD", b.password).
		Env("MYSQL_DATABASE", b.database).
		Port(Port).
		WaitFor(modkit.Probe{Log: ReadyLog, Port: Port, Name: "login and COM_PING",
			Try: func(ctx context.Context, addr string) error {
				return ping(ctx, addr, b.user, b.password, b.database)
			}})
	if len(cmd) > 0 {
		c.Cmd(cmd...)
	}
	if b.user != "root" {
		c.Env("MYSQL_USER", b.user).Env("MYSQL_PASSWORD", b.password)
	}
	if !b.tzTables {
		c.Env("MYSQL_INITDB_SKIP_TZINFO", "1")
	}
	b.inits.ApplyTo(c)
	if b.warm() {
		c.Warm("berth-mysql-v1")
	}
	return c
}

// StartE starts the server and waits until the user can log in; on
// failure it removes the container and returns the error.
func (b *Builder) StartE(ctx context.Context) (*Container, error) {
	c, at, err := b.StartContainer(ctx, b.containerBuilder, Port)
	if err != nil {
		return nil, err
	}
	return &Container{Container: c, Address: at, database: b.database, user: b.user, password: b.password}, nil
}

// Start is StartE for tests: in a *berth.Harness an error fails the test;
// in a session it panics (use StartE there).
func (b *Builder) Start() *Container {
	if tb := b.s.T(); tb != nil {
		tb.Helper()
	}
	return modkit.Must(b.s, b.StartE)
}

// Container is a started server. It embeds the container handle (Exec,
// Logs, Stop, ...), which also prints it: ID, image and name in every
// verb, never the credentials it holds; and the Address of 3306 (Host,
// Port, Addr) where the test reaches it.
type Container struct {
	*berth.Container
	modkit.Address
	database string
	user     string
	password string
}

// Database is the database created at start.
func (c *Container) Database() string { return c.database }

// User is the user created at start ("root" when User named root).
func (c *Container) User() string { return c.user }

// Password is the user's and root's password.
func (c *Container) Password() string { return c.password }

// DSN is the data source name of the database for
// github.com/go-sql-driver/mysql from the test:
// user:password@tcp(host:port)/database. params ("key=value") are added
// as the query, e.g. DSN("parseTime=true", "multiStatements=true").
func (c *Container) DSN(params ...string) string {
	return c.dsn(c.Addr(), params)
}

// NetworkDSN is DSN for other containers on a network where this server
// has alias: user:password@tcp(alias:3306)/database.
func (c *Container) NetworkDSN(alias string, params ...string) string {
	return c.dsn(modkit.NetworkAddr(alias, Port), params)
}

func (c *Container) dsn(hostPort string, params []string) string {
	q := url.Values{}
	for _, p := range params {
		k, v, _ := strings.Cut(p, "=")
		q.Add(k, v)
	}
	dsn := c.user + ":" + c.password + "@tcp(" + hostPort + ")/" + c.database
	if len(q) > 0 {
		dsn += "?" + q.Encode()
	}
	return dsn
}

// URL is the connection URL for clients that take one (mysql://user:
// password@host:port/database), e.g. the mysql command line and most
// migration tools.
func (c *Container) URL() string {
	u := url.URL{Scheme: "mysql", User: url.UserPassword(c.user, c.password),
		Host: c.Addr(), Path: "/" + c.database}
	return u.String()
}
