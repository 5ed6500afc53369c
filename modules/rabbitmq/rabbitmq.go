// Package rabbitmq starts throw-away RabbitMQ brokers for tests, taking
// AMQP connections when Start returns, with the management API on request.
//
//	func TestQueue(t *testing.T) {
//		h := berth.New(t)
//		mq := rabbitmq.New(h).User("app", "pw").Start()
//		conn, err := amqp.Dial(mq.AMQPURL()) // github.com/rabbitmq/amqp091-go
//		...
//	}
//
// The image is expected to behave like the official rabbitmq image:
// RABBITMQ_DEFAULT_USER, RABBITMQ_DEFAULT_PASS and RABBITMQ_DEFAULT_VHOST,
// guest allowed from other hosts, plugins from /etc/rabbitmq/enabled_plugins.
// The module links no client library: readiness speaks AMQP 0-9-1 itself
// (a PLAIN login and opening the virtual host).
package rabbitmq

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/modules/modkit"
)

// DefaultImage is the image New uses.
const DefaultImage = "rabbitmq:3.10"

// Port is the AMQP port inside the container.
const Port = "5672/tcp"

// ManagementPort is the management plugin's HTTP port inside the
// container (the API under /api/ and the UI).
const ManagementPort = "15672/tcp"

// ReadyLog is the line the broker logs when it has started.
const ReadyLog = "Server startup complete"

// ErrInvalidInput is matched (errors.Is) by errors for bad builder input;
// it is modkit.ErrInvalidInput.
var ErrInvalidInput = modkit.ErrInvalidInput

// Builder describes a RabbitMQ broker. Each method records the first bad
// input; Start reports it, StartE returns it.
type Builder struct {
	s          modkit.Scope
	user       string
	password   string
	vhost      string
	management bool
	// Image, Err and the container builder's common calls: Env, Network
	// (other containers reach the broker at alias:5672, see
	// NetworkAMQPURL), Label, Name, Memory, Customize. The image must
	// behave like the official one (the -management variants too).
	modkit.Base[*Builder]
}

// New starts describing a broker in scope s: image DefaultImage, user
// guest with password guest (the image's default), virtual host "/",
// management off.
func New(s modkit.Scope) *Builder {
	b := &Builder{s: s, user: "guest", password: "guest", vhost: "/"}
	b.Base = modkit.NewBase(b, "rabbitmq", DefaultImage)
	return b
}

func checkText(what, v string, limit int) error {
	switch {
	case v == "":
		return fmt.Errorf("the %s must not be empty", what)
	case len(v) > limit:
		return fmt.Errorf("the %s is longer than %d bytes", what, limit)
	case strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return fmt.Errorf("the %s must not contain NUL or control characters", what)
	}
	return nil
}

// User makes the broker's default user name with password
// (RABBITMQ_DEFAULT_USER and _PASS), an administrator, instead of guest.
func (b *Builder) User(name, password string) *Builder {
	if err := checkText("user name", name, 255); err != nil {
		return b.Fail("User", "%v", err)
	}
	if err := checkText("password", password, 255); err != nil {
		return b.Fail("User", "%v", err)
	}
	b.user, b.password = name, password
	return b
}

// VHost makes the default virtual host name (RABBITMQ_DEFAULT_VHOST)
// instead of "/"; the URLs lead to it.
func (b *Builder) VHost(name string) *Builder {
	if err := checkText("virtual host", name, 255); err != nil {
		return b.Fail("VHost", "%v", err)
	}
	b.vhost = name
	return b
}

// Management turns the management plugin on (the HTTP API and UI on
// ManagementPort; see ManagementURL), on any image.
func (b *Builder) Management() *Builder { b.management = true; return b }

// Spec returns the container's description as Start would use it.
func (b *Builder) Spec() container.Spec { return b.Describe(b.containerBuilder).Spec() }

func (b *Builder) containerBuilder() *berth.ContainerBuilder {
	c := b.s.Container(b.ImageRef()).
		Env("RABBITMQ_DEFAULT_USER", b.user).
		Env("RABBITMQ_DEFAULT_PASS", b.password).
		Env("RABBITMQ_DEFAULT_VHOST", b.vhost).
		Port(Port).
		WaitFor(modkit.Probe{Log: ReadyLog, Port: Port, Name: "AMQP login and Connection.Open",
			Try: func(ctx context.Context, addr string) error {
				return handshake(ctx, addr, b.user, b.password, b.vhost)
			}})
	if b.management {
		// The broker reads the file at boot; the -management images
		// ship the same.
		c.FileContent("/etc/rabbitmq/enabled_plugins", []byte("[rabbitmq_management].\n"), 0o644).
			Port(ManagementPort)
	}
	return c
}

// StartE starts the broker and waits until the user can open the virtual
// host; on failure it removes the container and returns the error.
func (b *Builder) StartE(ctx context.Context) (*Container, error) {
	c, at, err := b.StartContainer(ctx, b.containerBuilder, Port)
	if err != nil {
		return nil, err
	}
	mc := &Container{Container: c, Address: at, user: b.user, password: b.password, vhost: b.vhost}
	if b.management {
		if mc.management, err = modkit.AddressOf(ctx, c, ManagementPort); err != nil {
			c.Remove(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("rabbitmq: %w", err)
		}
	}
	return mc, nil
}

// Start is StartE for tests: in a *berth.Harness an error fails the test;
// in a session it panics (use StartE there).
func (b *Builder) Start() *Container {
	if tb := b.s.T(); tb != nil {
		tb.Helper()
	}
	return modkit.Must(b.s, b.StartE)
}

// Container is a started broker. It embeds the container handle (Exec,
// Logs, Stop, ...), which also prints it: ID, image and name in every
// verb, never the credentials it holds; and the Address of 5672 (Host,
// Port, Addr) where the test reaches it.
type Container struct {
	*berth.Container
	modkit.Address
	management modkit.Address // zero: management off
	user       string
	password   string
	vhost      string
}

// User is the default user's name.
func (c *Container) User() string { return c.user }

// Password is the default user's password.
func (c *Container) Password() string { return c.password }

// VHost is the default virtual host.
func (c *Container) VHost() string { return c.vhost }

// AMQPURL is the AMQP URL of the virtual host from the test:
// amqp://user:password@host:port/vhost.
func (c *Container) AMQPURL() string { return c.url(c.Addr()) }

// NetworkAMQPURL is AMQPURL for other containers on a network where this
// broker has alias: amqp://user:password@alias:5672/vhost.
func (c *Container) NetworkAMQPURL(alias string) string {
	return c.url(modkit.NetworkAddr(alias, Port))
}

func (c *Container) url(hostPort string) string {
	u := url.URL{Scheme: "amqp", User: url.UserPassword(c.user, c.password), Host: hostPort, Path: "/"}
	if c.vhost != "/" {
		// One path segment, escaped whole: a '/' in the name is %2F.
		u.Path, u.RawPath = "/"+c.vhost, "/"+url.PathEscape(c.vhost)
	}
	return u.String()
}

// ManagementURL is the base URL of the management plugin from the test
// (http://host:port; the API is under /api/, with the user's basic auth).
// It is "" when the broker was started without Management.
func (c *Container) ManagementURL() string {
	if c.management == (modkit.Address{}) {
		return ""
	}
	return "http://" + c.management.Addr()
}
