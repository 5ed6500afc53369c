package redis

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-go/berth/modules/modkit"
)

// This file gives each test a logical database of its own on a server
// (shared by the run or the binary), as postgres.Container.Clone gives a
// database: claimed in database 0 with SET NX under a key per index, so
// test binaries sharing a server never hand out the same one, emptied
// (FLUSHDB) when claimed and again when released.

// claimPrefix is the key in database 0 that marks database N taken; its
// value names the holder.
const claimPrefix = "berth:db:"

// claimTTL bounds a claim whose binary died without releasing it.
const claimTTL = time.Hour

// DB is a logical database of one test. Its String names it and its
// holder, never the password.
type DB struct {
	srv      *Container
	index    int
	holder   string
	token    string
	released atomic.Bool
}

// DB gives test t a logical database of its own (1 up to the server's
// databases setting - 1; database 0 holds the claims), empty, and empties
// and frees it in the background after t ends. It waits while every
// database is held: raise the count with Databases for many parallel
// tests. An error fails the test.
func (c *Container) DB(t testing.TB) *DB {
	t.Helper()
	return modkit.Hold(t, "redis", c.DBE)
}

// DBE is DB outside a test: holder names who holds the database in
// messages. The caller calls Release.
func (c *Container) DBE(ctx context.Context, holder string) (*DB, error) {
	var b [8]byte
	rand.Read(b[:])
	token := fmt.Sprintf("%s (pid %d) %s", holder, os.Getpid(), hex.EncodeToString(b[:]))
	var held []string
	for delay := 20 * time.Millisecond; ; delay = min(delay*2, 250*time.Millisecond) {
		idx, h, err := c.claim(ctx, token)
		switch {
		case err == nil && idx > 0:
			return &DB{srv: c, index: idx, holder: holder, token: token}, nil
		case err == nil:
			held = h
		case ctx.Err() == nil || held == nil:
			return nil, fmt.Errorf("redis: database for %s on %s: %w", holder, c.Addr(), err)
		}
		// A claim cut short by the end of ctx: say who held them at the
		// last look, not the I/O error the deadline caused.
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("redis: database for %s on %s: every one is held (%s): %w", holder, c.Addr(), strings.Join(held, "; "), context.Cause(ctx))
		case <-time.After(delay):
		}
	}
}

// claim takes the first free database and empties it; 0 and the holders
// when none is free.
func (c *Container) claim(ctx context.Context, token string) (int, []string, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return 0, nil, err
	}
	defer conn.close()
	n, err := conn.databases()
	if err != nil {
		return 0, nil, err
	}
	var held []string
	ttl := strconv.Itoa(int(claimTTL / time.Second))
	for i := 1; i < n; i++ {
		reply, err := conn.do("SET", claimPrefix+strconv.Itoa(i), token, "NX", "EX", ttl)
		if err != nil {
			return 0, nil, err
		}
		if reply == nil {
			if h, err := conn.do("GET", claimPrefix+strconv.Itoa(i)); err == nil {
				if s, ok := h.(string); ok {
					held = append(held, fmt.Sprintf("%d: %s", i, s))
				}
			}
			continue
		}
		if _, err := conn.do("SELECT", strconv.Itoa(i)); err != nil {
			return 0, nil, err
		}
		if _, err := conn.do("FLUSHDB"); err != nil {
			return 0, nil, err
		}
		return i, nil, nil
	}
	return 0, held, nil
}

// Index is the database number.
func (d *DB) Index() int { return d.index }

// URL is the connection URL of the database from the test:
// redis://[default:password@]host:port/N.
func (d *DB) URL() string { return d.srv.urlDB(d.srv.Addr(), d.index) }

// NetworkURL is the connection URL for containers on a network where the
// server has alias.
func (d *DB) NetworkURL(alias string) string {
	return d.srv.urlDB(net.JoinHostPort(alias, "6379"), d.index)
}

// Addr is the server's "host:port"; select Index with the client's DB
// option.
func (d *DB) Addr() string { return d.srv.Addr() }

// String names the database, its server and holder.
func (d *DB) String() string {
	return fmt.Sprintf("database %d on %s (held by %s)", d.index, d.srv.Addr(), d.holder)
}

// Format prints String for every verb, so no verb reaches the password.
func (d *DB) Format(f fmt.State, _ rune) { fmt.Fprint(f, d.String()) }

// Release empties the database and frees it, in the background. Later
// calls do nothing.
func (d *DB) Release() {
	if !d.released.CompareAndSwap(false, true) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := d.srv.dial(ctx)
		if err != nil {
			return // the claim expires
		}
		defer conn.close()
		if _, err := conn.do("SELECT", strconv.Itoa(d.index)); err != nil {
			return
		}
		if _, err := conn.do("FLUSHDB"); err != nil {
			return
		}
		conn.do("SELECT", "0")
		// Only our claim: after an expiry another holder may have it.
		if v, err := conn.do("GET", claimPrefix+strconv.Itoa(d.index)); err == nil && v == d.token {
			conn.do("DEL", claimPrefix+strconv.Itoa(d.index))
		}
	}()
}

func (c *Container) urlDB(hostPort string, index int) string {
	u, _ := url.Parse(c.url(hostPort))
	u.Path = "/" + strconv.Itoa(index)
	return u.String()
}

// respConn is one connection for the module's own commands.
type respConn struct {
	nc net.Conn
	r  *bufio.Reader
}

func (c *Container) dial(ctx context.Context) (*respConn, error) {
	nc, err := modkit.Dial(ctx, c.Addr(), 30*time.Second)
	if err != nil {
		return nil, err
	}
	conn := &respConn{nc: nc, r: bufio.NewReaderSize(nc, 512)}
	if c.password != "" {
		if _, err := conn.do("AUTH", c.password); err != nil {
			nc.Close()
			return nil, err
		}
	}
	return conn, nil
}

func (c *respConn) close() { c.nc.Close() }

// do sends a command and reads its reply: a string, an int64, nil, or a
// []any; an error reply is a *replyError.
func (c *respConn) do(args ...string) (any, error) {
	if _, err := c.nc.Write(appendCommand(nil, args...)); err != nil {
		return nil, err
	}
	return readAny(c.r, 0)
}

// databases is the server's databases setting.
func (c *respConn) databases() (int, error) {
	reply, err := c.do("CONFIG", "GET", "databases")
	if err != nil {
		return 0, err
	}
	if a, ok := reply.([]any); ok && len(a) == 2 {
		if s, ok := a[1].(string); ok {
			if n, err := strconv.Atoi(s); err == nil {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("CONFIG GET databases answered %v", reply)
}

// readAny reads one RESP2 reply of any type, with bounded lengths.
func readAny(r *bufio.Reader, depth int) (any, error) {
	line, err := readLine(r)
	if err != nil {
		return nil, err
	}
	if len(line) == 0 {
		return nil, errors.New("redis: empty reply line")
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, &replyError{Message: body}
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n > maxReply {
			return nil, fmt.Errorf("redis: bad bulk length %.20q", body)
		}
		if n < 0 {
			return nil, nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		return string(b[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n > 64 || depth > 2 {
			return nil, fmt.Errorf("redis: bad array length %.20q", body)
		}
		if n < 0 {
			return nil, nil
		}
		out := make([]any, 0, n)
		for range n {
			v, err := readAny(r, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("redis: unexpected reply %.40q", line)
}

// readLine reads a CRLF-terminated line of at most maxReply bytes.
func readLine(r *bufio.Reader) (string, error) {
	line, err := modkit.ReadLine(r, maxReply)
	if err != nil {
		return "", fmt.Errorf("redis: %w", err)
	}
	body, ok := strings.CutSuffix(line, "\r\n")
	if !ok {
		return "", fmt.Errorf("redis: malformed reply %.40q", line)
	}
	return body, nil
}
