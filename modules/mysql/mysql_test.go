package mysql_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/internal/tests/modtest"
	"github.com/berth-go/berth/modules/mysql"
	"github.com/berth-go/berth/wait"
)

func open(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, db.PingContext(ctx))
	return db
}

func strings1(t testing.TB, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestInitScriptsAndAuth(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	my := mysql.New(h).Cold().
		Database("shop").User("app").Password("s3cret pass/with:chars@").
		InitScript("testdata/schema.sql", "testdata/seed.sh", "testdata/more.sql.gz").
		InitSQL("INSERT INTO orders (item, qty) VALUES ('from-sql', 1);").
		Start()
	assert.Equal(t, "shop", my.Database())
	assert.Equal(t, "app", my.User())
	assert.Equal(t, fmt.Sprintf("app:s3cret pass/with:chars@@tcp(127.0.0.1:%d)/shop", my.Port()), my.DSN())
	cfg, err := gomysql.ParseDSN(my.DSN("parseTime=true"))
	require.NoError(t, err, "the driver reads the DSN")
	assert.Equal(t, "s3cret pass/with:chars@", cfg.Passwd)
	assert.True(t, cfg.ParseTime)

	db := open(t, my.DSN())
	// The scripts ran in the order given: the table first, then the rows.
	assert.Equal(t, []string{"from-shell", "from-gzip", "from-sql"}, strings1(t, db, "SELECT item FROM orders ORDER BY id"))
	assert.Equal(t, []string{"app@%"}, strings1(t, db, "SELECT CURRENT_USER()"))

	// The user has the database, not the server.
	_, err = db.Exec("CREATE DATABASE other")
	var me *gomysql.MySQLError
	require.ErrorAs(t, err, &me)
	assert.EqualValues(t, 1044, me.Number, "access denied to the user")

	// Root has the same password; a wrong one is refused.
	rootCfg := *cfg
	rootCfg.User = "root"
	rootCfg.ParseTime = false
	root := open(t, rootCfg.FormatDSN())
	assert.Equal(t, []string{"root@%"}, strings1(t, root, "SELECT CURRENT_USER()"))
	bad := *cfg
	bad.Passwd = "wrong"
	wrong, err := sql.Open("mysql", bad.FormatDSN())
	require.NoError(t, err)
	defer wrong.Close()
	err = wrong.Ping()
	require.ErrorAs(t, err, &me)
	assert.EqualValues(t, 1045, me.Number, "access denied")

	// The secret stays out of the handle's String.
	for _, v := range []any{my, mysql.New(h).Password("s3cret pass")} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			assert.NotContains(t, fmt.Sprintf(verb, v), "s3cret", verb)
		}
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	my := mysql.New(h).Cold().Start()
	assert.Equal(t, "test", my.Database())
	assert.Equal(t, "test", my.User())
	assert.Len(t, my.Password(), 24, "a random password when cold")
	db := open(t, my.DSN())
	assert.Equal(t, []string{"test"}, strings1(t, db, "SELECT DATABASE()"))
	assert.Equal(t, fmt.Sprintf("mysql://test:%s@127.0.0.1:%d/test", my.Password(), my.Port()), my.URL())
	var tz sql.NullString
	require.NoError(t, db.QueryRow("SELECT CONVERT_TZ('2020-01-01 00:00:00', 'UTC', 'Europe/Paris')").Scan(&tz))
	assert.False(t, tz.Valid, "no time zone tables unless asked for")
	other := mysql.New(h).Cold().Spec()
	assert.NotEqual(t, my.Password(), other.Env["MYSQL_PASSWORD"], "each cold server gets its own password")
	if berth.WarmEnabled() {
		assert.Equal(t, mysql.WarmPassword, mysql.New(h).Spec().Env["MYSQL_PASSWORD"], "warm starts need a stable password")
	}
}

func TestRootUser(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	my := mysql.New(h).Cold().User("root").Password("root-pw").TimeZoneTables().Start()
	db := open(t, my.DSN())
	assert.Equal(t, []string{"root@%"}, strings1(t, db, "SELECT CURRENT_USER()"))
	assert.Equal(t, []string{"2020-01-01 01:00:00"}, strings1(t, db, "SELECT CONVERT_TZ('2020-01-01 00:00:00', 'UTC', 'Europe/Paris')"),
		"TimeZoneTables loads the zones")
	_, err := db.Exec("CREATE DATABASE other")
	require.NoError(t, err, "root may do anything")
}

func TestConfig(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	my := mysql.New(h).Cold().
		Config("max_connections", "42").
		Config("sql_mode", "ANSI_QUOTES").
		Config("sql_mode", "ANSI_QUOTES,STRICT_ALL_TABLES"). // the last call wins
		Start()
	db := open(t, my.DSN())
	assert.Equal(t, []string{"42"}, strings1(t, db, "SELECT @@max_connections"))
	assert.Equal(t, []string{"ANSI_QUOTES,STRICT_ALL_TABLES"}, strings1(t, db, "SELECT @@GLOBAL.sql_mode"))
}

func TestWarmStart(t *testing.T) {
	warm, nonce, log := modtest.WarmStart(t, func(h *berth.Harness, nonce string) *mysql.Container {
		schema := "CREATE TABLE items (name VARCHAR(64)); INSERT INTO items VALUES ('" + nonce + "');"
		return mysql.New(h).Database("shop").InitSQL(schema).Start()
	})
	assert.NotContains(t, log, "init process done", "no initialization on a warm start")

	db := open(t, warm.DSN())
	assert.Equal(t, []string{nonce}, strings1(t, db, "SELECT name FROM items"), "data from the init script is there")
}

func TestNetworkDSN(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	net := h.Network("db")
	my := mysql.New(h).Network(net, "db").Start()
	dsn := my.NetworkDSN("db")
	assert.Equal(t, "test:"+my.Password()+"@tcp(db:3306)/test", dsn)
	// Another container on the network reaches the server by alias.
	out := modtest.ExecOnNetwork(t, h, net, mysql.DefaultImage,
		"sh", "-c", `MYSQL_PWD="$0" mysql -h db -u test -N -e 'SELECT 40 + 2' test`, my.Password())
	assert.Equal(t, "42\n", out)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	modtest.BadInput(t, func(h *berth.Harness) *mysql.Builder { return mysql.New(h).Password(modtest.Secret) }, (*mysql.Builder).StartE, []modtest.Case[*mysql.Builder]{
		{Name: "empty database", Build: func(b *mysql.Builder) *mysql.Builder { return b.Database("") }, Want: "Database"},
		{Name: "quote in user", Build: func(b *mysql.Builder) *mysql.Builder { return b.User("a'b") }, Want: "User"},
		{Name: "colon in user", Build: func(b *mysql.Builder) *mysql.Builder { return b.User("a:b") }, Want: "DSN"},
		{Name: "long user", Build: func(b *mysql.Builder) *mysql.Builder { return b.User(strings.Repeat("u", 33)) }, Want: "32 characters"},
		{Name: "empty password", Build: func(b *mysql.Builder) *mysql.Builder { return b.Password("") }, Want: "Password"},
		{Name: "newline in password", Build: func(b *mysql.Builder) *mysql.Builder { return b.Password("hunter2\n") }, Want: "line breaks"},
		{Name: "bad option", Build: func(b *mysql.Builder) *mysql.Builder { return b.Config("Max Connections", "1") }, Want: "option name"},
		{Name: "datadir", Build: func(b *mysql.Builder) *mysql.Builder { return b.Config("datadir", "/x") }, Want: "datadir"},
		{Name: "missing script", Build: func(b *mysql.Builder) *mysql.Builder { return b.InitScript("testdata/nope.sql") }, Want: "does not exist"},
		{Name: "script dir", Build: func(b *mysql.Builder) *mysql.Builder { return b.InitScript("testdata") }, Want: "directory"},
		{Name: "empty image", Build: func(b *mysql.Builder) *mysql.Builder { return b.Image("") }, Want: "Image"},
	})
}

func TestFailedStart(t *testing.T) {
	t.Parallel()
	modtest.FailedStarts(t, 30*time.Second, func(h *berth.Harness) *mysql.Builder { return mysql.New(h).Cold().Password(modtest.Secret) }, (*mysql.Builder).StartE, []modtest.Case[*mysql.Builder]{
		// The init script fails: the entrypoint exits, and the wait says so
		// at once instead of running into its timeout.
		{Name: "broken init script", Build: func(b *mysql.Builder) *mysql.Builder { return b.InitSQL("SELEKT 1;") }},
		{Name: "unknown option", Build: func(b *mysql.Builder) *mysql.Builder { return b.Config("no_such_option", "1") }},
		{Name: "missing image", Build: func(b *mysql.Builder) *mysql.Builder { return b.Image("berth-test/no-such-mysql:1") }, Want: "no-such-mysql"},
	})
}

// A login the server refuses ends the wait at once: here the image's
// environment is overridden so the user gets another password.
func TestRefusedLogin(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	b := mysql.New(h).Cold().Password(modtest.Secret).Env("MYSQL_PASSWORD", "other")
	err := modtest.StartFails(t, h, 30*time.Second, b.StartE, "")
	var se *mysql.ServerError
	require.ErrorAs(t, err, &se)
	assert.EqualValues(t, 1045, se.Code)
	var exit *wait.ExitError
	assert.False(t, errors.As(err, &exit), "the server still runs")
}

// BenchmarkStartToReady measures New(...).Start() until a login works,
// cold (initialization and all) and warm.
func BenchmarkStartToReady(b *testing.B) {
	for _, cold := range []bool{true, false} {
		b.Run(fmt.Sprint("cold=", cold), func(b *testing.B) {
			modtest.StartToReady(b, func(h *berth.Harness, ctx context.Context) (*mysql.Container, error) {
				bl := mysql.New(h)
				if cold {
					bl.Cold()
				}
				return bl.StartE(ctx)
			})
		})
	}
}
