package wait

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sqlStateError is a driver error with a SQLSTATE, as pgx's PgError.
type sqlStateError struct{ code, msg string }

func (e *sqlStateError) Error() string    { return e.msg + " (SQLSTATE " + e.code + ")" }
func (e *sqlStateError) SQLState() string { return e.code }

// scriptedDriver fails each connection with the next error of its script
// (a nil entry connects), and counts the attempts.
type scriptedDriver struct {
	script   []error
	attempts atomic.Int32
	dsn      atomic.Value
}

func (d *scriptedDriver) Open(dsn string) (driver.Conn, error) {
	d.dsn.Store(dsn)
	i := int(d.attempts.Add(1)) - 1
	if err := d.script[min(i, len(d.script)-1)]; err != nil {
		return nil, err
	}
	return okConn{}, nil
}

type okConn struct{}

func (okConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("not supported") }
func (okConn) Close() error                        { return nil }
func (okConn) Begin() (driver.Tx, error)           { return nil, errors.New("not supported") }
func (okConn) ExecContext(context.Context, string, []driver.NamedValue) (driver.Result, error) {
	return driver.RowsAffected(0), nil
}

var driverSeq atomic.Int32

func register(t *testing.T, script ...error) (string, *scriptedDriver) {
	t.Helper()
	d := &scriptedDriver{script: script}
	name := fmt.Sprintf("scripted%d", driverSeq.Add(1))
	sql.Register(name, d)
	return name, d
}

func dsnOf(host string, port int) string {
	return fmt.Sprintf("user=app password=hunter2-pw host=%s port=%d", host, port)
}

func TestForSQLRetriesUntilTheServerAnswers(t *testing.T) {
	t.Parallel()
	starting := &sqlStateError{"57P03", "the database system is starting up"}
	name, d := register(t, starting, errors.New("connection refused"), nil)
	require.NoError(t, ForSQL("5432/tcp", name, dsnOf).Ready(context.Background(), newFake()))
	assert.EqualValues(t, 3, d.attempts.Load())
	assert.Equal(t, "user=app password=hunter2-pw host=127.0.0.1 port=1", d.dsn.Load(), "the DSN is built from the mapped address")
}

func TestForSQLFailsAtOnceOnRefusedCredentials(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"28P01", "28000"} {
		refused := &sqlStateError{code, `password authentication failed for user "app"`}
		name, d := register(t, refused, nil)
		start := time.Now()
		err := ForSQL("5432/tcp", name, dsnOf).Ready(context.Background(), newFake())
		assert.Less(t, time.Since(start), 2*time.Second, "no retry until the timeout")
		assert.EqualValues(t, 1, d.attempts.Load(), "refused credentials are not tried again")
		require.ErrorIs(t, err, refused)
		assert.Contains(t, err.Error(), "the server refused the credentials (SQLSTATE "+code+")")
		assert.Contains(t, err.Error(), "127.0.0.1:1")
		assert.NotContains(t, err.Error(), "hunter2-pw")
	}
}

func TestForSQLTimeoutSaysWhatWasSeen(t *testing.T) {
	t.Parallel()
	name, _ := register(t, &sqlStateError{"57P03", "the database system is starting up"})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := ForSQL("5432/tcp", name, dsnOf).Query("SELECT 2").Ready(ctx, newFake())
	var te *TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, `sql `+name+` "SELECT 2" on 5432/tcp`, te.Awaited)
	assert.Equal(t, "query on 127.0.0.1:1: the database system is starting up (SQLSTATE 57P03)", te.LastSeen)
	assert.NotContains(t, err.Error(), "hunter2-pw")
}
