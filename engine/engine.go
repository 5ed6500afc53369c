// Package engine is berth's face of the Docker Engine API: a Client users
// can name, hold, pass to their helpers and point at a fake engine; the
// typed errors every berth call returns; the labels berth puts on what it
// makes, and the inventory of those resources.
//
// Most tests never need it: berth.New(t) holds the client and the handles
// (containers, networks, builds) cover the usual work. Harness.Engine gives
// the client for the rest: listing images, inspecting a network, finding
// what a session left behind.
//
// The protocol itself (dialers, version negotiation, streams) lives behind
// this package and is not part of the API.
package engine

import (
	"context"
	"crypto/tls"
	"net/url"
	"time"

	"github.com/berth-go/berth/internal/link"
	"github.com/berth-go/berth/internal/wire"
)

func init() {
	link.Unwrap = func(c any) *wire.Client {
		if cl, _ := c.(*Client); cl != nil {
			return cl.w
		}
		return nil // a nil client's calls fail with ErrNoClient
	}
	link.Wrap = func(w *wire.Client) any { return w.SetFace(&Client{w: w}) }
}

// Client talks to one engine. It is safe for concurrent use. Close it when
// done; later calls fail with ErrClosed.
type Client struct {
	w *wire.Client
}

// Option configures New.
type Option func(*config)

type config struct {
	host      string
	tls       *tls.Config
	ver       string
	header    time.Duration
	headerSet bool
}

// WithHost uses the engine at host (unix:///path, tcp://host:port,
// ssh://user@host) instead of the environment.
func WithHost(host string) Option { return func(c *config) { c.host = host } }

// WithTLS uses cfg for a tcp:// host given by WithHost.
func WithTLS(cfg *tls.Config) Option { return func(c *config) { c.tls = cfg } }

// WithAPIVersion pins the Engine API version ("1.41") instead of
// negotiating it.
func WithAPIVersion(v string) Option { return func(c *config) { c.ver = v } }

// WithResponseTimeout bounds how long the engine may take to start
// answering a call that does no open-ended work (an inspect, a create, a
// list); a miss is an error matching ErrNoResponse that names the engine
// and the call. The default is one minute, or BERTH_RESPONSE_TIMEOUT; 0
// turns the bound off. It bounds the engine's liveness, not the work:
// streams, waits, pulls, builds, stops, commits, exec and attach are
// bounded by their ctx alone.
func WithResponseTimeout(d time.Duration) Option {
	return func(c *config) { c.header, c.headerSet = d, true }
}

// New returns a client for the engine named by the options, or else by the
// environment the way the docker CLI finds it: DOCKER_HOST (with
// DOCKER_TLS_VERIFY and DOCKER_CERT_PATH), DOCKER_CONTEXT, config.json's
// current context. When none of them names an engine, New looks for a
// local engine's socket where users have one, in this order, and takes the
// first that answers GET /_ping within a second (HostFrom then says
// "found: PATH (ENGINE)"):
//
//	/var/run/docker.sock                          Docker
//	$XDG_RUNTIME_DIR/docker.sock                  rootless Docker (else /run/user/UID/docker.sock)
//	~/.docker/run/docker.sock                     Docker Desktop
//	~/.docker/desktop/docker.sock                 Docker Desktop, older releases
//	$COLIMA_HOME/default/docker.sock              Colima, when COLIMA_HOME is set
//	~/.colima/default/docker.sock                 Colima
//	$XDG_CONFIG_HOME/colima/default/docker.sock   Colima, newer releases (default ~/.config)
//	~/.rd/docker.sock                             Rancher Desktop
//	~/.orbstack/run/docker.sock                   OrbStack
//	$XDG_RUNTIME_DIR/podman/podman.sock           rootless Podman (else /run/user/UID/...)
//	/run/podman/podman.sock                       rootful Podman
//
// A socket that exists but does not answer (left by a stopped engine) is
// passed over. When none answers, the client uses /var/run/docker.sock and
// its first call fails with ErrDaemonUnreachable listing what was seen at
// each place. There is no search on Windows. `berth doctor` prints the
// search. Apart from those pings New does not contact the engine; the
// first call negotiates the API version.
func New(opts ...Option) (*Client, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	var wo []wire.Option
	if cfg.host != "" {
		wo = append(wo, wire.WithEndpoint(wire.Endpoint{Host: cfg.host, From: "option", TLS: cfg.tls}))
	}
	if cfg.ver != "" {
		wo = append(wo, wire.WithVersion(cfg.ver))
	}
	if cfg.headerSet {
		wo = append(wo, wire.WithResponseTimeout(cfg.header))
	}
	w, err := wire.New(wo...)
	if err != nil {
		return nil, err
	}
	return link.Wrap(w).(*Client), nil
}

// Close releases the client's connections (and an ssh transport's
// process). Calls made after Close fail with ErrClosed.
func (c *Client) Close() error { return c.w.Close() }

// Host is the engine's address, e.g. unix:///var/run/docker.sock or
// tcp://10.0.0.5:2376, with any password in it replaced by "xxxxx".
func (c *Client) Host() string { return redactHost(c.w.Endpoint().Host) }

// HostFrom says where the address came from: "DOCKER_HOST",
// "context NAME", "option", "found: PATH (ENGINE)" (the socket search of
// New) or "default" (no socket answered).
func (c *Client) HostFrom() string { return c.w.Endpoint().From }

// Local reports whether the engine is reached over a local unix socket,
// so ports it publishes are on this machine's loopback.
func (c *Client) Local() bool { return c.w.Endpoint().Scheme() == "unix" }

// PublishHost is where the engine publishes container ports, seen from
// the engine's host: 127.0.0.1 for a local socket or an engine listening
// on every address, else the engine's host name. PortHost is where this
// process reaches them.
func (c *Client) PublishHost() string {
	return wire.PublishHost(c.w.Endpoint().Host)
}

// PortHost is where this process reaches the ports the engine publishes:
// PublishHost, except when this process runs in a container and talks to
// the host's engine through its mounted socket (a CI job container with
// /var/run/docker.sock mounted); there it is the host's side of the
// engine's bridge network (its gateway), since the job container's
// 127.0.0.1 is its own. BERTH_HOST overrides both in berth's containers.
func (c *Client) PortHost(ctx context.Context) string { return c.w.PortHost(ctx) }

// HostAddress is the address of this machine that the engine's containers
// reach (the engine's side of its bridge network, e.g. 172.17.0.1, or this
// process's own address on it when the test runs in a container next to
// the engine). It fails with ErrUnsupported for an engine on another
// machine: its containers cannot reach this process.
func (c *Client) HostAddress(ctx context.Context) (string, error) { return c.w.HostAddress(ctx) }

// PublishHost is where an engine at host publishes container ports; see
// Client.PublishHost.
func PublishHost(host string) string {
	return wire.PublishHost(host)
}

// redactHost hides a password in a host's userinfo.
func redactHost(host string) string {
	u, err := url.Parse(host)
	if err != nil || u.User == nil {
		return host
	}
	if _, ok := u.User.Password(); !ok {
		return host
	}
	return u.Redacted()
}

// Version returns the negotiated Engine API version ("1.41"), asking the
// engine on first use.
func (c *Client) Version(ctx context.Context) (string, error) { return c.w.Version(ctx) }

// Server describes the engine.
type Server struct {
	// Name is "Docker Engine" or "Podman".
	Name string
	// Version is the engine's own version ("20.10.24").
	Version string
	// APIVersion is the newest API version the engine speaks.
	APIVersion string
	// OS and Arch are the engine host's platform ("linux", "amd64").
	OS, Arch string
	// Experimental reports the engine's experimental mode.
	Experimental bool
}

// Platform is OS/Arch, the form build and pull platforms take.
func (s Server) Platform() string { return s.OS + "/" + s.Arch }

// Server asks the engine what it is.
func (c *Client) Server(ctx context.Context) (Server, error) {
	p, err := c.w.PingInfo(ctx)
	if err != nil {
		return Server{}, err
	}
	v, err := c.w.ServerVersion(ctx)
	if err != nil {
		return Server{}, err
	}
	s := Server{Name: "Docker Engine", Version: v.Version, APIVersion: v.APIVersion, OS: v.Os, Arch: v.Arch, Experimental: p.Experimental}
	if p.IsPodman() {
		s.Name = "Podman"
	}
	return s, nil
}

// IsPodman reports whether the engine is Podman's Docker-compatible API.
// An engine that cannot be asked counts as not Podman.
func (c *Client) IsPodman(ctx context.Context) bool { return c.w.IsPodman(ctx) }

// Ping checks that the engine answers.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.w.Ping(ctx)
	return err
}
