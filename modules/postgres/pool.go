package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
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
// usually at once from the clones this binary keeps ready. An error fails
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
		s.pool = newPool(t.srv, t.name, s.fileCopy, t.size)
	}
	p := s.pool
	s.mu.Unlock()
	name, err := p.take(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: clone of %s on %s for %s: %w", t.name, t.srv.addr(), holder, err)
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
	return fmt.Sprintf("database %s (clone of %s on %s, held by %s)", d.name, d.template, d.srv.addr(), d.holder)
}

// Format prints String for every verb, so no verb reaches the password.
func (d *Database) Format(f fmt.State, _ rune) { fmt.Fprint(f, d.String()) }

// Release drops the database in the background. Later calls do nothing.
func (d *Database) Release() {
	if d.released.CompareAndSwap(false, true) {
		d.pool.drop(d.name)
	}
}

// pool keeps clones of one template ready and drops released ones, with
// connections to the maintenance database of its own. It lives as long as
// the test binary; clones it made and no test took stay until the server
// goes.
type pool struct {
	srv      *Container
	template string
	fileCopy bool
	prefix   string
	seq      atomic.Int64
	ready    chan string

	startOnce sync.Once
	mu        sync.Mutex
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

func newPool(srv *Container, template string, fileCopy bool, size int) *pool {
	short := strings.TrimPrefix(template, templatePrefix)[:8]
	return &pool{
		srv: srv, template: template, fileCopy: fileCopy,
		prefix: fmt.Sprintf("berth_%s_%s_%d_", short, procTag, os.Getpid()%100000),
		ready:  make(chan string, size),
	}
}

func (p *pool) start() {
	p.startOnce.Do(func() {
		for range fillers {
			go p.fill()
		}
		go p.dropLoop()
	})
}

// take returns a ready clone, waiting for the fillers when none is.
func (p *pool) take(ctx context.Context) (string, error) {
	p.start()
	select {
	case name := <-p.ready:
		return name, nil
	default:
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case name := <-p.ready:
			return name, nil
		case <-ctx.Done():
			return "", p.withLastErr(context.Cause(ctx))
		case <-tick.C:
			// A filler that keeps failing: say why instead of waiting
			// for the test's deadline.
			p.mu.Lock()
			err := p.lastErr
			p.mu.Unlock()
			if err != nil {
				return "", err
			}
		}
	}
}

func (p *pool) withLastErr(err error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lastErr != nil {
		return fmt.Errorf("%w; last CREATE DATABASE: %w", err, p.lastErr)
	}
	return err
}

// fill makes clones while there is room in ready, over one connection it
// makes again when it breaks.
func (p *pool) fill() {
	var conn *pgConn
	for failures := 0; ; {
		name := fmt.Sprintf("%s%d", p.prefix, p.seq.Add(1))
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		var err error
		if conn == nil {
			conn, err = p.srv.admin(ctx)
		}
		if err == nil {
			_, err = conn.query(ctx, createDatabase(ident(name), ident(p.template), p.fileCopy))
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
		if err != nil {
			failures++
			if failures > 5 {
				return // take reports lastErr
			}
			time.Sleep(time.Duration(failures) * 200 * time.Millisecond)
			continue
		}
		failures = 0
		p.ready <- name // blocks while the pool is full
	}
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
