package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-go/berth/modules/modkit"
)

// Database is a private database of one test, cloned from a template. Its
// String names it and the test that holds it, never the password.
type Database struct {
	srv      *Container
	name     string
	template string
	holder   string
	waited   time.Duration
	pool     *pool
	released atomic.Bool
}

// Clone gives test t a private database copied from the server's database
// (with its init scripts, and the migrations of Builder.Migrate), and drops
// it in the background once t and its subtests have ended. It is
// Template("", nil).Clone(t).
func (c *Container) Clone(t testing.TB) *Database {
	t.Helper()
	return c.Template("", nil).Clone(t)
}

// Clone gives test t a private database copied from the template,
// usually at once from the clones kept ready on the server. An error fails
// the test. The database is dropped in the background after t ends; when
// t failed, its log says which database it held.
func (t *Template) Clone(tb testing.TB) *Database {
	tb.Helper()
	return modkit.Hold(tb, "postgres", t.cloneFor)
}

// CloneE is Clone outside a test: holder names who holds the database in
// messages. The caller calls Release when done.
func (t *Template) CloneE(ctx context.Context, holder string) (*Database, error) {
	return t.cloneFor(ctx, holder)
}

func (t *Template) cloneFor(ctx context.Context, holder string) (*Database, error) {
	start := time.Now()
	s, err := t.ensureOnce(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w (for %s)", err, holder)
	}
	s.mu.Lock()
	if s.pool == nil {
		s.pool = newPool(t.srv, t.name, s.fileCopy, t.size, procTag)
		s.pool.tablespace = s.tablespace
	}
	p := s.pool
	s.mu.Unlock()
	name, err := p.take(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: clone of %s on %s for %s: %w", t.name, t.srv.Addr(), holder, err)
	}
	return &Database{srv: t.srv, name: name, template: t.name, holder: holder, waited: time.Since(start), pool: p}, nil
}

// Name is the database's name on the server.
func (d *Database) Name() string { return d.name }

// Template is the name of the template it was cloned from.
func (d *Database) Template() string { return d.template }

// Waited is how long getting it took: about nothing when a ready clone
// was there, the time of a CREATE DATABASE (or of making the template)
// otherwise.
func (d *Database) Waited() time.Duration { return d.waited }

// DSN is the connection URL of the database, with application_name set
// to the holder (the test's name), so the server's pg_stat_activity says
// which test a connection belongs to.
func (d *Database) DSN() string { return d.ConnString() }

// ConnString is DSN with extra parameters ("key=value").
func (d *Database) ConnString(params ...string) string {
	if !hasParam(params, "application_name") {
		params = append(params, "application_name="+truncate(d.holder, 63))
	}
	return d.srv.dsnFor(d.name, params)
}

// NetworkDSN is the connection URL for containers on a network where the
// server has alias.
func (d *Database) NetworkDSN(alias string, params ...string) string {
	return pgURL(d.srv.user, d.srv.password, net.JoinHostPort(alias, "5432"), d.name, params)
}

func hasParam(params []string, key string) bool {
	for _, p := range params {
		if k, _, _ := strings.Cut(p, "="); k == key {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// String names the database, its template, server and holder.
func (d *Database) String() string {
	return fmt.Sprintf("database %s (clone of %s on %s, held by %s)", d.name, d.template, d.srv.Addr(), d.holder)
}

// Format prints String for every verb, so no verb reaches the password.
func (d *Database) Format(f fmt.State, _ rune) { fmt.Fprint(f, d.String()) }

// Release drops the database in the background. Later calls do nothing.
func (d *Database) Release() {
	if d.released.CompareAndSwap(false, true) {
		d.pool.drop(d.name)
	}
}

// pool keeps clones of one template ready on the server and drops
// released ones, with connections to the maintenance database of its own.
// The ready clones are the server's, not this binary's: every binary
// sharing the server keeps about size of them ready (its fillers count
// what is there before each CREATE DATABASE) and takes any of them by
// renaming it (ALTER DATABASE ... RENAME: one taker wins), so clones one
// binary made and did not use serve the next binary of the run. It lives
// as long as the test binary; ready clones stay until the server goes.
type pool struct {
	srv      *Container
	template string
	fileCopy bool
	// tablespace holds the clones ("" for the default).
	tablespace string
	size       int
	short      string // of the template's hash: berth_<short>_...
	tag        string // this process's, in the names of the clones it makes
	ready      string // starts the names of ready clones
	readyLike  string // the LIKE pattern of their names
	seq        atomic.Int64
	conns      chan *pgConn // idle connections for taking

	startOnce sync.Once
	mu        sync.Mutex
	changed   chan struct{} // closed when a clone is made or taken here
	lastErr   error
	drops     []string // released, not dropped yet
}

// Drops start as soon as a test lets its clone go. Holding them back while
// tests wait for clones (both force a checkpoint) looked cheaper but made
// the 10x20 bench suite slower in 6 runs of 6 (median 127 s against 50 s
// over 4 runs), probably because a used clone's dirty pages then go to
// disk at the next clone's checkpoint instead of being discarded by its
// drop.

// procTag tells this process's clones apart from other binaries'.
var procTag = func() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

// fillers is how many CREATE DATABASE a binary runs at once per template.
const fillers = 2

// takePoll is how often a waiting taker looks at the server again for
// clones other binaries made (this binary's fillers wake it at once).
const takePoll = 10 * time.Millisecond

// poll is how often a filler of a full pool looks at
// the server again for what other binaries did.
const poll = 50 * time.Millisecond

// A ready clone is named berth_<short>_r_<maker's tag>_<seq>; a taken
// clone's name is the same without "r_".
func newPool(srv *Container, template string, fileCopy bool, size int, tag string) *pool {
	short := strings.TrimPrefix(template, templatePrefix)[:8]
	ready := "berth_" + short + "_r_"
	return &pool{
		srv: srv, template: template, fileCopy: fileCopy, size: size,
		short: short, ready: ready,
		readyLike: strings.NewReplacer(`\`, `\\`, `_`, `\_`, `%`, `\%`).Replace(ready) + "%",
		tag:       fmt.Sprintf("%s_%d", tag, os.Getpid()%100000),
		conns:     make(chan *pgConn, fillers+2), changed: make(chan struct{}),
	}
}

func (p *pool) takenName(ready string) string {
	return "berth_" + p.short + "_" + strings.TrimPrefix(ready, p.ready)
}

// readyQuery lists the ready clones of the template on the server.
func (p *pool) readyQuery(what string) string {
	return "SELECT " + what + " FROM pg_database WHERE datname LIKE " + literal(p.readyLike)
}

func (p *pool) start() {
	p.startOnce.Do(func() {
		for range fillers {
			go p.fill()
		}
		go p.dropLoop()
	})
}

// signal wakes the takers and fillers of this process.
func (p *pool) signal() {
	p.mu.Lock()
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

func (p *pool) waitChange() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

// take claims a ready clone, waiting for the fillers (this binary's or
// another's) when none is.
func (p *pool) take(ctx context.Context) (string, error) {
	p.start()
	errTick := time.Now().Add(time.Second)
	for {
		changed := p.waitChange()
		name, err := p.claim(ctx)
		if name != "" {
			p.signal() // the fillers make another
			return name, nil
		}
		if err == nil && time.Now().After(errTick) {
			// A filler that keeps failing: say why instead of waiting
			// for the test's deadline.
			p.mu.Lock()
			err = p.lastErr
			p.mu.Unlock()
			errTick = time.Now().Add(time.Second)
		}
		if err != nil {
			return "", err
		}
		select {
		case <-changed:
		case <-time.After(takePoll):
		case <-ctx.Done():
			return "", p.withLastErr(context.Cause(ctx))
		}
	}
}

// claim renames one of the ready clones to its taken name; "" when there
// is none to take.
func (p *pool) claim(ctx context.Context) (string, error) {
	var conn *pgConn
	select {
	case conn = <-p.conns:
	default:
		var err error
		if conn, err = p.srv.admin(ctx); err != nil {
			return "", err
		}
	}
	name, err := p.claimOn(ctx, conn)
	if err != nil {
		conn.close() // it may be broken
		return "", err
	}
	select {
	case p.conns <- conn:
	default:
		conn.close()
	}
	return name, nil
}

func (p *pool) claimOn(ctx context.Context, conn *pgConn) (string, error) {
	rows, err := p.readyNames(ctx, conn)
	if err != nil {
		return "", err
	}
	// In another order than the other takers, so that they seldom try
	// the same clone.
	mrand.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	for _, ready := range rows {
		taken := p.takenName(ready)
		_, err := conn.query(ctx, "ALTER DATABASE "+ident(ready)+" RENAME TO "+ident(taken))
		var se *ServerError
		if errors.As(err, &se) && se.Code == "3D000" { // invalid_catalog_name: another taker won
			continue
		}
		if err != nil {
			return "", err
		}
		return taken, nil
	}
	return "", nil
}

func (p *pool) readyNames(ctx context.Context, conn *pgConn) ([]string, error) {
	rows, err := conn.query(ctx, p.readyQuery("datname"))
	if err != nil {
		return nil, err
	}
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r[0]
	}
	return names, nil
}

func (p *pool) withLastErr(err error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lastErr != nil {
		return fmt.Errorf("%w; last CREATE DATABASE: %w", err, p.lastErr)
	}
	return err
}

// fill makes clones while the server has fewer than size ready, over one
// connection it makes again when it breaks. Binaries that count at the
// same moment may each make one: the server holds at most size plus a
// clone per filler of the binaries sharing it.
func (p *pool) fill() {
	var conn *pgConn
	for failures := 0; ; {
		changed := p.waitChange()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		var err error
		full := false
		if conn == nil {
			conn, err = p.srv.admin(ctx)
		}
		if err == nil {
			full, err = p.fillOne(ctx, conn)
			if err != nil {
				// The connection may be broken: make another.
				conn.close()
				conn = nil
			}
		}
		cancel()
		p.mu.Lock()
		p.lastErr = err
		p.mu.Unlock()
		switch {
		case err != nil:
			failures++
			if failures > 5 {
				return // take reports lastErr
			}
			time.Sleep(time.Duration(failures) * 200 * time.Millisecond)
		case full:
			failures = 0
			select { // a take here, or a look at the others' takes
			case <-changed:
			case <-time.After(poll):
			}
		default:
			failures = 0
			p.signal()
		}
	}
}

// fillOne makes a ready clone unless the server has size of them.
func (p *pool) fillOne(ctx context.Context, conn *pgConn) (full bool, err error) {
	rows, err := conn.query(ctx, p.readyQuery("count(*)"))
	if err != nil {
		return false, err
	}
	if n, _ := strconv.Atoi(rows[0][0]); n >= p.size {
		return true, nil
	}
	name := fmt.Sprintf("%s%s_%d", p.ready, p.tag, p.seq.Add(1))
	sql := createDatabase(ident(name), ident(p.template), p.fileCopy)
	if p.tablespace != "" {
		sql += " TABLESPACE " + ident(p.tablespace)
	}
	_, err = conn.query(ctx, sql)
	return false, err
}

// drop queues name for DROP DATABASE, done by one goroutine with a
// connection of its own.
func (p *pool) drop(name string) {
	p.start()
	p.mu.Lock()
	p.drops = append(p.drops, name)
	p.mu.Unlock()
}

func (p *pool) dropLoop() {
	var conn *pgConn
	for {
		conn = p.dropOne(conn, p.nextDrop())
	}
}

// nextDrop waits for a released clone.
func (p *pool) nextDrop() string {
	for {
		p.mu.Lock()
		if len(p.drops) > 0 {
			name := p.drops[0]
			p.drops = p.drops[1:]
			p.mu.Unlock()
			return name
		}
		p.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *pool) dropOne(conn *pgConn, name string) *pgConn {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var err error
	if conn == nil {
		if conn, err = p.srv.admin(ctx); err != nil {
			return nil
		}
	}
	// FORCE ends connections the test left open.
	if _, err := conn.query(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
		conn.close()
		return nil
	}
	return conn
}
