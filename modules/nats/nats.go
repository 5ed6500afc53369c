// Package nats starts throw-away NATS servers for tests, answering PING
// when Start returns, with JetStream on request and the HTTP monitoring
// endpoint on.
//
//	func TestEvents(t *testing.T) {
//		h := berth.New(t)
//		srv := nats.New(h).JetStream().Start()
//		nc, err := natsgo.Connect(srv.URL())
//		...
//	}
//
// The image is expected to behave like the official nats image: the
// nats-server program as the entrypoint, taking its flags as the command.
// The module gives the server a configuration file of its own and links no
// client library: readiness speaks the NATS protocol (INFO, CONNECT, PING).
package nats

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/modules/modkit"
)

// DefaultImage is the image New uses.
const DefaultImage = "nats:2.9"

// Port is the client port inside the container.
const Port = "4222/tcp"

// MonitorPort is the HTTP monitoring port inside the container (/varz,
// /connz, /healthz, /jsz, ...).
const MonitorPort = "8222/tcp"

// ReadyLog is the line the server logs when it accepts clients.
const ReadyLog = "Server is ready"

// configPath is where the module's configuration file goes.
const configPath = "/etc/berth-nats/nats-server.conf"

// jetStreamDir holds JetStream's streams inside the container.
const jetStreamDir = "/tmp/berth-nats/jetstream"

// ErrInvalidInput is matched (errors.Is) by errors for bad builder input;
// it is modkit.ErrInvalidInput.
var ErrInvalidInput = modkit.ErrInvalidInput

// Builder describes a NATS server. Each method records the first bad
// input; Start reports it, StartE returns it.
type Builder struct {
	s         modkit.Scope
	jetStream bool
	user      string
	password  string
	token     string
	args      []string
	// Image, Err and the container builder's common calls: Env, Network
	// (other containers reach the server at alias:4222, see NetworkURL),
	// Label, Name, Memory, Customize.
	modkit.Base[*Builder]
}

// New starts describing a server in scope s: image DefaultImage, no
// authentication, JetStream off, monitoring on MonitorPort.
func New(s modkit.Scope) *Builder {
	b := &Builder{s: s}
	b.Base = modkit.NewBase(b, "nats", DefaultImage)
	return b
}

// JetStream turns JetStream (streams, key-value and object stores) on,
// stored inside the container.
func (b *Builder) JetStream() *Builder { b.jetStream = true; return b }

// checkSecret: the value goes into a quoted string of the configuration
// file, which has escapes of its own.
func checkSecret(what, v string) error {
	switch {
	case v == "":
		return fmt.Errorf("the %s must not be empty", what)
	case strings.ContainsAny(v, "\"\\"):
		return fmt.Errorf("the %s must not contain a quote or a backslash", what)
	case strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return fmt.Errorf("the %s must not contain control characters", what)
	}
	return nil
}

// User makes the server require a user name and password from clients.
// URL carries them. It excludes Token.
func (b *Builder) User(name, password string) *Builder {
	if err := checkSecret("user name", name); err != nil {
		return b.Fail("User", "%v", err)
	}
	if err := checkSecret("password", password); err != nil {
		return b.Fail("User", "%v", err)
	}
	if b.token != "" {
		return b.Fail("User", "Token is set already: a server takes one or the other")
	}
	b.user, b.password = name, password
	return b
}

// Token makes the server require token from clients. URL carries it. It
// excludes User.
func (b *Builder) Token(token string) *Builder {
	if err := checkSecret("token", token); err != nil {
		return b.Fail("Token", "%v", err)
	}
	if b.user != "" {
		return b.Fail("Token", "User is set already: a server takes one or the other")
	}
	b.token = token
	return b
}

// Arg adds nats-server flags, e.g. Arg("--max_payload", "2MB"). Flags
// given here win over the module's configuration file.
func (b *Builder) Arg(args ...string) *Builder {
	for _, a := range args {
		if strings.ContainsRune(a, 0) {
			return b.Fail("Arg", "an argument contains NUL")
		}
	}
	b.args = append(b.args, args...)
	return b
}

// Spec returns the container's description as Start would use it.
func (b *Builder) Spec() container.Spec { return b.Describe(b.containerBuilder).Spec() }

func (b *Builder) config() string {
	var c strings.Builder
	c.WriteString("# Written by berth's nats module.\nlisten: 0.0.0.0:4222\nhttp: 0.0.0.0:8222\n")
	if b.jetStream {
		fmt.Fprintf(&c, "jetstream {\n  store_dir: %q\n}\n", jetStreamDir)
	}
	switch {
	case b.user != "":
		fmt.Fprintf(&c, "authorization {\n  user: \"%s\"\n  password: \"%s\"\n}\n", b.user, b.password)
	case b.token != "":
		fmt.Fprintf(&c, "authorization {\n  token: \"%s\"\n}\n", b.token)
	}
	return c.String()
}

func (b *Builder) containerBuilder() *berth.ContainerBuilder {
	return b.s.Container(b.ImageRef()).
		FileContent(configPath, []byte(b.config()), 0o644).
		Cmd(append([]string{"--config", configPath}, b.args...)...).
		Port(Port, MonitorPort).
		WaitFor(modkit.Probe{Log: ReadyLog, Port: Port, Name: "CONNECT and PING",
			Try: func(ctx context.Context, addr string) error {
				return ping(ctx, addr, b.connectOptions())
			}})
}

// StartE starts the server and waits until it answers PING; on failure it
// removes the container and returns the error.
func (b *Builder) StartE(ctx context.Context) (*Container, error) {
	c, at, err := b.StartContainer(ctx, b.containerBuilder, Port)
	if err != nil {
		return nil, err
	}
	monitor, err := modkit.AddressOf(ctx, c, MonitorPort)
	if err != nil {
		c.Remove(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("nats: %w", err)
	}
	return &Container{Container: c, Address: at, monitor: monitor,
		user: b.user, password: b.password, token: b.token, jetStream: b.jetStream}, nil
}

// Start is StartE for tests: in a *berth.Harness an error fails the test;
// in a session it panics (use StartE there).
func (b *Builder) Start() *Container {
	if tb := b.s.T(); tb != nil {
		tb.Helper()
	}
	return modkit.Must(b.s, b.StartE)
}

type connectOptions struct {
	Verbose  bool   `json:"verbose"`
	Pedantic bool   `json:"pedantic"`
	Name     string `json:"name"`
	Lang     string `json:"lang"`
	Version  string `json:"version"`
	Protocol int    `json:"protocol"`
	User     string `json:"user,omitempty"`
	Pass     string `json:"pass,omitempty"`
	Token    string `json:"auth_token,omitempty"`
}

func (b *Builder) connectOptions() connectOptions {
	return connectOptions{Name: "berth-readiness", Lang: "go", Version: "0", Protocol: 1,
		User: b.user, Pass: b.password, Token: b.token}
}

// maxLine bounds a protocol line read by the readiness check; INFO is the
// longest, well under this.
const maxLine = 64 << 10

// ping connects, sends CONNECT and PING, and wants PONG. An authorization
// error is permanent.
func ping(ctx context.Context, addr string, opts connectOptions) error {
	conn, err := modkit.Dial(ctx, addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 4096)
	line, err := readLine(r)
	if err != nil {
		return fmt.Errorf("no INFO from the server (not up yet): %w", err)
	}
	if !strings.HasPrefix(line, "INFO ") {
		return fmt.Errorf("the server opened with %.40q, not INFO", line)
	}
	req, err := json.Marshal(opts)
	if err != nil {
		return err
	}
	if _, err := conn.Write(append(append([]byte("CONNECT "), req...), "\r\nPING\r\n"...)); err != nil {
		return err
	}
	for {
		line, err := readLine(r)
		if err != nil {
			return err
		}
		switch {
		case line == "PONG":
			return nil
		case line == "PING":
			if _, err := conn.Write([]byte("PONG\r\n")); err != nil {
				return err
			}
		case strings.HasPrefix(line, "-ERR"):
			msg := strings.TrimSpace(strings.TrimPrefix(line, "-ERR"))
			if strings.Contains(strings.ToLower(msg), "authorization") {
				return modkit.Permanent(fmt.Errorf("the server refused the credentials: %s", msg))
			}
			return fmt.Errorf("the server answered %s", msg)
		case line == "+OK" || strings.HasPrefix(line, "INFO "):
		default:
			return fmt.Errorf("unexpected reply %.40q", line)
		}
	}
}

// readLine reads a protocol line of at most maxLine bytes, without its
// line break.
func readLine(r *bufio.Reader) (string, error) {
	line, err := modkit.ReadLine(r, maxLine)
	return strings.TrimRight(line, "\r\n"), err
}

// Container is a started server. It embeds the container handle (Exec,
// Logs, Stop, ...), which also prints it: ID, image and name in every
// verb, never the credentials it holds; and the Address of 4222 (Host,
// Port, Addr) where the test reaches it.
type Container struct {
	*berth.Container
	modkit.Address
	monitor   modkit.Address
	user      string
	password  string
	token     string
	jetStream bool
}

// JetStreamEnabled reports whether the server runs JetStream.
func (c *Container) JetStreamEnabled() bool { return c.jetStream }

// URL is the client URL from the test: nats://host:port, with the user and
// password or the token in it when the server requires them.
func (c *Container) URL() string { return c.url(c.Addr()) }

// NetworkURL is the client URL for other containers on a network where
// this server has alias: nats://alias:4222.
func (c *Container) NetworkURL(alias string) string { return c.url(modkit.NetworkAddr(alias, Port)) }

func (c *Container) url(hostPort string) string {
	u := url.URL{Scheme: "nats", Host: hostPort}
	switch {
	case c.user != "":
		u.User = url.UserPassword(c.user, c.password)
	case c.token != "":
		u.User = url.User(c.token)
	}
	return u.String()
}

// MonitorURL is the base URL of the HTTP monitoring endpoint from the test
// (http://host:port): GET MonitorURL()+"/varz", "/healthz", "/jsz", ...
func (c *Container) MonitorURL() string {
	return "http://" + c.monitor.Addr()
}
