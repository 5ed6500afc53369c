// Package redis starts throw-away Redis servers for tests, answering PING
// when Start returns.
//
//	func TestCache(t *testing.T) {
//		h := berth.New(t)
//		rd := redis.New(h).Password("pw").Config("maxmemory", "64mb").Start()
//		opts, err := goredis.ParseURL(rd.URL())
//		...
//	}
//
// The image is expected to behave like the official redis image
// (redis-server arguments as the command, redis-cli inside). The module
// links no client library.
package redis

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/modules/modkit"
)

// DefaultImage is the image New uses.
const DefaultImage = "redis:7-bookworm"

// Port is the port the server listens on inside the container.
const Port = "6379/tcp"

// ReadyLog is the line the server logs when it accepts connections.
const ReadyLog = "Ready to accept connections"

// ErrInvalidInput is matched (errors.Is) by errors for bad builder input;
// it is modkit.ErrInvalidInput.
var ErrInvalidInput = modkit.ErrInvalidInput

// Scope is where the container is made: a *berth.Harness in a test (the
// container is removed when the test ends) or a *berth.Session.
type Scope = berth.Scope

// Builder describes a Redis server. Each method records the first bad
// input; Start reports it, StartE returns it.
type Builder struct {
	s        Scope
	password string
	config   modkit.Settings
	// Image, Err and the container builder's common calls: Env, Network
	// (other containers reach the server at alias:6379, see NetworkURL),
	// Label, Name, Memory, Customize.
	modkit.Base[*Builder]
}

// New starts describing a server in scope s: image DefaultImage, no
// password, no persistence (save "" and appendonly no: a test server need
// not survive a restart).
func New(s Scope) *Builder {
	b := &Builder{s: s}
	b.config.Set("save", "")
	b.config.Set("appendonly", "no")
	b.Base = modkit.NewBase(b, "redis", DefaultImage)
	return b
}

// Password makes the server require password (requirepass) from clients.
// Leave Password out for none: "" is bad input.
func (b *Builder) Password(password string) *Builder {
	return b.Set("Password", &b.password, password, modkit.CheckPassword)
}

var validKey = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// Config sets a server setting as redis-server --key value, e.g.
// Config("maxmemory", "64mb"). A later call for the same key wins. Use
// Password for requirepass.
func (b *Builder) Config(key, value string) *Builder {
	switch {
	case !validKey.MatchString(key):
		return b.Fail("Config", "%q is not a setting name (lower-case letters, digits and -, e.g. maxmemory-policy)", key)
	case key == "requirepass":
		return b.Fail("Config", "use Password for requirepass, so the secret stays out of messages")
	case strings.ContainsAny(value, "\x00\r\n"):
		return b.Fail("Config", "the value of %s contains NUL or a line break", key)
	}
	b.config.Set(key, value)
	return b
}

// Databases sets how many logical databases the server has (the
// databases setting, 16 by default). DB hands out 1 to n-1, one per test
// at a time: give a server shared by many parallel tests enough.
func (b *Builder) Databases(n int) *Builder {
	if n < 2 {
		return b.Fail("Databases", "%d: DB needs at least 2 (database 0 holds the claims)", n)
	}
	return b.Config("databases", strconv.Itoa(n))
}

// Spec returns the container's description as Start would use it.
func (b *Builder) Spec() container.Spec { return b.Describe(b.containerBuilder).Spec() }

func (b *Builder) containerBuilder() *berth.ContainerBuilder {
	cmd := []string{"redis-server"}
	for key, value := range b.config.All() {
		cmd = append(cmd, "--"+key, value)
	}
	c := b.s.Container(b.ImageRef())
	if b.password != "" {
		cmd = append(cmd, "--requirepass", b.password)
		// redis-cli in the container reads REDISCLI_AUTH, so commands run
		// through Exec need no secret on their command line.
		c.Env("REDISCLI_AUTH", b.password)
	}
	c.Cmd(cmd...).
		Port(Port).
		WaitFor(readiness(b.password))
	return c
}

// StartE starts the server and waits until it answers PING; on failure it
// removes the container and returns the error.
func (b *Builder) StartE(ctx context.Context) (*Container, error) {
	c, at, err := b.StartContainer(ctx, b.containerBuilder, Port)
	if err != nil {
		return nil, err
	}
	return &Container{Container: c, Address: at, password: b.password}, nil
}

// Start is StartE for tests: in a *berth.Harness an error fails the test;
// in a session it panics (use StartE there).
func (b *Builder) Start() *Container {
	if tb := b.s.T(); tb != nil {
		tb.Helper()
	}
	return modkit.Must(b.s, b.StartE)
}

// readiness sends PING (after AUTH when a password is set) to the mapped
// port from the test's side once the server logs its ready line, proving
// the server, not just the engine's port proxy, answers where clients will
// connect. A refused password is Permanent.
func readiness(password string) modkit.Probe {
	return modkit.Probe{Log: ReadyLog, Port: Port, Name: "PING",
		Try: func(ctx context.Context, addr string) error {
			err := pingOnce(ctx, addr, password)
			var re *replyError
			if errors.As(err, &re) && re.Auth() {
				return modkit.Permanent(fmt.Errorf("the server refused the password: %w", err))
			}
			return err
		}}
}

func pingOnce(ctx context.Context, addr, password string) error {
	conn, err := modkit.Dial(ctx, addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	var req []byte
	if password != "" {
		req = appendCommand(req, "AUTH", password)
	}
	req = appendCommand(req, "PING")
	if _, err := conn.Write(req); err != nil {
		return err
	}
	r := bufio.NewReaderSize(conn, 512)
	if password != "" {
		if _, err := readReply(r); err != nil {
			return err
		}
	}
	reply, err := readReply(r)
	if err != nil {
		return err
	}
	if reply != "PONG" {
		return fmt.Errorf("PING answered %q", reply)
	}
	return nil
}

// appendCommand encodes a command as a RESP array of bulk strings.
func appendCommand(b []byte, args ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

// maxReply bounds a reply line; PING and AUTH answer with a few bytes.
const maxReply = 4096

// replyError is an error reply of the server ("-WRONGPASS ...").
type replyError struct{ Message string }

func (e *replyError) Error() string { return "redis: " + e.Message }

// Auth reports whether the server refused or wanted credentials.
func (e *replyError) Auth() bool {
	return strings.HasPrefix(e.Message, "WRONGPASS") || strings.HasPrefix(e.Message, "NOAUTH") ||
		strings.Contains(e.Message, "without any password configured")
}

// readReply reads one simple-string ("+OK") or error ("-ERR ...") reply.
// Any other reply type is a protocol error: PING and AUTH give neither.
func readReply(r *bufio.Reader) (string, error) {
	line, err := readLine(r)
	if errors.Is(err, io.EOF) {
		return "", fmt.Errorf("redis: connection closed before a reply (server not up yet): %w", err)
	}
	if err != nil {
		return "", err
	}
	if line == "" {
		return "", fmt.Errorf("redis: malformed reply %.40q", line)
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return "", &replyError{Message: line[1:]}
	}
	return "", fmt.Errorf("redis: unexpected reply %.40q", line)
}

// Container is a started server. It embeds the container handle (Exec,
// Logs, Stop, ...) and the Address of 6379 (Host, Port, and Addr for
// clients that take an address and a password separately) where the test
// reaches it.
type Container struct {
	*berth.Container
	modkit.Address
	password string
}

// Password is the server's password ("" for none).
func (c *Container) Password() string { return c.password }

// URL is the connection URL from the test:
// redis://default:password@host:port/0 (redis://host:port/0 without a
// password). The user name needs Redis 6 or newer.
func (c *Container) URL() string { return c.url(c.Addr()) }

// NetworkURL is the connection URL for other containers on a network where
// this server has alias.
func (c *Container) NetworkURL(alias string) string {
	return c.url(modkit.NetworkAddr(alias, Port))
}

func (c *Container) url(hostPort string) string {
	u := url.URL{Scheme: "redis", Host: hostPort, Path: "/0"}
	if c.password != "" {
		// The default user: redis-cli sends an empty user name as one.
		u.User = url.UserPassword("default", c.password)
	}
	return u.String()
}
