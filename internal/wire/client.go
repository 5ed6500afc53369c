// Package wire is berth's Engine API client: it finds the engine like the
// docker CLI does, negotiates the API version, and speaks the API's JSON,
// JSON-stream, multiplexed-stream and hijacked-connection forms without the
// Docker SDK.
package wire

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// API versions this client speaks.
const (
	MinAPIVersion = "1.41"
	MaxAPIVersion = "1.47"
)

// Client talks to one engine. It is safe for concurrent use.
type Client struct {
	ep   Endpoint
	dial func(ctx context.Context) (net.Conn, error)
	http *http.Client
	// respTimeout bounds how long the engine may take to start answering
	// a call that is not Long; 0 means no bound.
	respTimeout time.Duration
	respFrom    string // where respTimeout came from, for the error
	urlHost     string // host part of request URLs
	scheme      string // http or https
	userAgnt    string

	mu       sync.Mutex
	closed   bool
	face     any    // the public client wrapping this one (package engine)
	version  string // negotiated; empty until the first request
	ping     Ping
	portHost string // PortHost's answer once asked
}

// Ping is the engine's answer to GET /_ping.
type Ping struct {
	APIVersion     string
	OSType         string
	Experimental   bool
	BuilderVersion string
	Server         string
}

// Option configures a Client.
type Option func(*Client)

// WithEndpoint uses ep instead of the environment.
func WithEndpoint(ep Endpoint) Option { return func(c *Client) { c.ep = ep } }

// WithHost uses the given engine address (unix://, tcp://, ssh://).
func WithHost(host string) Option {
	return func(c *Client) { c.ep = Endpoint{Host: host, From: "option"} }
}

// WithVersion pins the API version and skips negotiation.
func WithVersion(v string) Option { return func(c *Client) { c.version = v } }

// DefaultResponseTimeout is how long the engine may take to start
// answering a call that does no open-ended work. A live engine answers
// such calls in milliseconds and, on a loaded machine, in seconds (creates
// were seen taking 10-12 s on two busy cores); a minute is well past that
// and still turns a hung engine into an error long before a test
// binary's -timeout.
const DefaultResponseTimeout = time.Minute

// EnvResponseTimeout names the environment variable that overrides
// DefaultResponseTimeout (a Go duration; 0 turns the bound off).
const EnvResponseTimeout = "BERTH_RESPONSE_TIMEOUT"

// WithResponseTimeout bounds how long the engine may take to start
// answering (send the status line and headers of) a call that is not a
// stream or a wait; d = 0 turns the bound off. It overrides
// BERTH_RESPONSE_TIMEOUT. This is a bound on the engine's liveness, not a
// deadline for work: streams, waits, pulls, pushes, builds, stops,
// commits, exec and attach are not bounded this way, and reading an
// answer is not either; ctx stays the deadline for all of them.
func WithResponseTimeout(d time.Duration) Option {
	return func(c *Client) { c.respTimeout, c.respFrom = d, "option" }
}

// New returns a client for the engine named by opts, or by the environment
// (DOCKER_HOST, DOCKER_CONTEXT, config.json, else the socket search of
// EndpointFromEnv, which pings) when no endpoint is given. It makes no
// call of the API; the first request negotiates the version.
func New(opts ...Option) (*Client, error) {
	c := &Client{userAgnt: "berth", respTimeout: DefaultResponseTimeout, respFrom: "default"}
	if v := os.Getenv(EnvResponseTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%s=%q is not a duration: use e.g. 2m, or 0 to turn the bound off", EnvResponseTimeout, v)
		}
		c.respTimeout, c.respFrom = d, EnvResponseTimeout
	}
	for _, o := range opts {
		o(c)
	}
	if c.respTimeout < 0 {
		return nil, fmt.Errorf("WithResponseTimeout(%v): the bound must not be negative: use 0 to turn it off", c.respTimeout)
	}
	if c.ep.Host == "" {
		ep, err := EndpointFromEnv()
		if err != nil {
			return nil, err
		}
		c.ep = ep
	} else {
		ep, err := redactEndpoint(c.ep)
		if err != nil {
			return nil, err
		}
		c.ep = ep
	}
	if err := c.setupTransport(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Client) setupTransport() error {
	u, err := url.Parse(c.ep.Host)
	if err != nil {
		return err
	}
	c.scheme = "http"
	var base func(ctx context.Context) (net.Conn, error)
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	switch u.Scheme {
	case "unix":
		path := u.Path
		c.urlHost = "docker.sock"
		base = func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "unix", path) }
	case "tcp", "http", "https":
		addr := u.Host
		c.urlHost = addr
		base = func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
		if c.ep.TLS != nil || u.Scheme == "https" {
			cfg := &tls.Config{MinVersion: tls.VersionTLS12}
			if c.ep.TLS != nil {
				cfg = c.ep.TLS.Clone()
			}
			if cfg.ServerName == "" {
				cfg.ServerName = u.Hostname()
			}
			plain := base
			base = func(ctx context.Context) (net.Conn, error) {
				conn, err := plain(ctx)
				if err != nil {
					return nil, err
				}
				tc := tls.Client(conn, cfg)
				// An endpoint that takes the connection and never
				// answers the handshake gets the response bound too.
				hctx, cancel := ctx, context.CancelFunc(func() {})
				if c.respTimeout > 0 {
					hctx, cancel = context.WithTimeoutCause(ctx, c.respTimeout, errNoResponse)
				}
				err = tc.HandshakeContext(hctx)
				cancel()
				if err != nil {
					conn.Close()
					if ctx.Err() == nil && errors.Is(context.Cause(hctx), errNoResponse) {
						return nil, fmt.Errorf("the TLS handshake got no answer within %v (%s): the engine looks hung", c.respTimeout, c.respFrom)
					}
					return nil, c.tlsError(err)
				}
				if tc.ConnectionState().Version >= tls.VersionTLS13 {
					return &verdictConn{Conn: tc, c: c}, nil
				}
				return tc, nil
			}
		}
	case "ssh":
		c.urlHost = "docker.sock"
		base = sshDialer(u)
	default:
		return fmt.Errorf("engine endpoint %q: unsupported scheme %q", c.ep.Host, u.Scheme)
	}
	c.dial = func(ctx context.Context) (net.Conn, error) {
		conn, err := base(ctx)
		if err != nil {
			var te *TLSError
			if errors.As(err, &te) {
				return nil, err
			}
			return nil, &DaemonError{Host: c.ep.Host, From: c.ep.From, Searched: c.ep.Searched, Err: err}
		}
		return conn, nil
	}
	// One transport for all calls, so a stream can reuse an idle
	// connection (over ssh:// each is a process); the response bound is
	// kept per call by send.
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			// The dial ctx carries the values of the call's: send's
			// bound waits while the call dials (a dial has bounds of
			// its own).
			if n, ok := ctx.Value(dialingKey{}).(*atomic.Int32); ok {
				n.Add(1)
				defer n.Add(-1)
			}
			return c.dial(ctx)
		},
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	c.http = &http.Client{Transport: tr}
	return nil
}

// errNoResponse is the cause a call's ctx is cancelled with when the
// engine missed the response bound.
var errNoResponse = errors.New("no response within the bound")

// send sends req; unless long, the engine must answer with a header
// within respTimeout of the request being sent (counted from the end of
// its body: an upload is not counted), or the call ends with a
// *NoResponseError. Reading the answer's body is bounded by ctx alone.
func (c *Client) send(ctx context.Context, req *http.Request, long bool) (*http.Response, error) {
	if long || c.respTimeout <= 0 {
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, c.transportError(ctx, req.Method, c.callPath(req), err)
		}
		return resp, nil
	}
	rctx, cancel := context.WithCancelCause(req.Context())
	var (
		mu              sync.Mutex
		timer           *time.Timer
		answered, fired bool
		dialing         atomic.Int32 // dials under way for this call
	)
	stop := func() bool { // reports whether the bound was missed
		mu.Lock()
		defer mu.Unlock()
		answered = true
		if timer != nil {
			timer.Stop()
		}
		return fired
	}
	arm := func() { // the request is sent (its body read to the end): the bound starts
		mu.Lock()
		defer mu.Unlock()
		if answered || timer != nil {
			return
		}
		timer = time.AfterFunc(c.respTimeout, func() {
			mu.Lock()
			if answered {
				mu.Unlock()
				return
			}
			if dialing.Load() > 0 {
				timer.Reset(c.respTimeout)
				mu.Unlock()
				return
			}
			fired = true
			mu.Unlock()
			cancel(errNoResponse)
		})
	}
	req = req.WithContext(context.WithValue(rctx, dialingKey{}, &dialing))
	if req.Body == nil || req.Body == http.NoBody {
		arm()
	} else {
		// The transport drains and closes the body once it is sent (and
		// gets a fresh one from GetBody when it sends again).
		req.Body = &armAtEnd{ReadCloser: req.Body, arm: arm}
		if get := req.GetBody; get != nil {
			req.GetBody = func() (io.ReadCloser, error) {
				b, err := get()
				if err != nil {
					return nil, err
				}
				return &armAtEnd{ReadCloser: b, arm: arm}, nil
			}
		}
	}
	resp, err := c.http.Do(req)
	if stop() && ctx.Err() == nil {
		if err == nil {
			resp.Body.Close()
		}
		cancel(nil)
		return nil, &NoResponseError{Host: c.ep.Host, From: c.ep.From, Method: req.Method, Path: c.callPath(req), After: c.respTimeout, TimeoutFrom: c.respFrom}
	}
	if err != nil {
		cancel(nil)
		return nil, c.transportError(ctx, req.Method, c.callPath(req), err)
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// dialingKey keys the count of dials a call waits for.
type dialingKey struct{}

// armAtEnd is a request body that calls arm when it is read to its end or
// closed: then the request is written, and the response bound starts.
type armAtEnd struct {
	io.ReadCloser
	arm func()
}

func (b *armAtEnd) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.arm()
	}
	return n, err
}

func (b *armAtEnd) Close() error {
	b.arm()
	return b.ReadCloser.Close()
}

// callPath is the path of req without the version prefix, for messages.
func (c *Client) callPath(req *http.Request) string {
	p := req.URL.Path
	if strings.HasPrefix(p, "/v") {
		if i := strings.IndexByte(p[1:], '/'); i > 0 {
			return p[1+i:]
		}
	}
	return p
}

// transportError keeps ctx errors and daemon errors recognisable.
func (c *Client) transportError(ctx context.Context, method, path string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("engine: %s %s: %w", method, path, context.Cause(ctx))
	}
	var de *DaemonError
	if errors.As(err, &de) {
		return de
	}
	var te *TLSError
	if errors.As(err, &te) {
		return te
	}
	var se *SSHError
	if errors.As(err, &se) {
		return se
	}
	if c.ep.TLS != nil || c.scheme == "https" {
		if isRemoteAlert(err) || strings.Contains(err.Error(), "malformed HTTP") || strings.Contains(err.Error(), "server gave HTTP response") {
			return c.tlsError(err)
		}
	} else if strings.Contains(err.Error(), "malformed HTTP response") {
		return fmt.Errorf("engine: %s %s: the endpoint %s did not answer plain HTTP (%v); if it is a TLS port set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH", method, path, c.ep.Host, err)
	}
	return fmt.Errorf("engine: %s %s: %w", method, path, err)
}

// cancelOnClose releases a call's ctx when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}

// ErrNoResponse matches a *NoResponseError.
var ErrNoResponse = errors.New("engine sent no answer in time")

// NoResponseError says the engine took a call but did not start to
// answer it within the response timeout: it is hung, or far slower than
// an engine should be. It matches ErrNoResponse and ErrDaemonUnreachable.
type NoResponseError struct {
	Host, From   string // the engine and where it was configured
	Method, Path string
	After        time.Duration
	// TimeoutFrom says where the bound came from: "default", "option"
	// or BERTH_RESPONSE_TIMEOUT.
	TimeoutFrom string
}

func (e *NoResponseError) Error() string {
	how := "raise it with " + EnvResponseTimeout + " (0 turns it off)"
	if e.TimeoutFrom == "option" {
		how = "raise it with WithResponseTimeout"
	}
	return fmt.Sprintf("engine: %s %s: the engine at %s (%s) took the call but sent no answer within %v: it looks hung (does `docker info` answer?); if it is only slow, %s", e.Method, e.Path, e.Host, origin(e.From), e.After, how)
}

// Is makes the error match ErrNoResponse and ErrDaemonUnreachable.
func (e *NoResponseError) Is(target error) bool {
	return target == ErrNoResponse || target == ErrDaemonUnreachable
}

// TLSError says the TLS handshake with the engine failed, or the engine
// refused the client's certificate right after it (TLS 1.3 reports that on
// the first read). The message names the likely cause and the fix.
type TLSError struct {
	Host string
	// From says where the TLS material came from: DOCKER_CERT_PATH,
	// context NAME; empty for a configuration given in code.
	From string
	// NoClientCert is set when the client had no certificate to offer.
	NoClientCert bool
	Err          error
}

func (e *TLSError) Error() string {
	from := "the TLS configuration"
	switch {
	case e.From == "DOCKER_CERT_PATH":
		from = "DOCKER_CERT_PATH"
	case e.From != "":
		from = "the TLS files of " + e.From
	}
	var unknownCA x509.UnknownAuthorityError
	var badName x509.HostnameError
	var record tls.RecordHeaderError
	var hint string
	switch {
	case errors.As(e.Err, &unknownCA):
		hint = fmt.Sprintf("the engine's certificate is not signed by ca.pem from %s: ca.pem must sign the server certificate, so use the CA that issued the engine's --tlscert", from)
	case errors.As(e.Err, &badName):
		hint = "the engine's certificate does not name the host you connect to: connect by a name or IP the certificate lists, or reissue it with that name"
	case errors.As(e.Err, &record):
		hint = "the endpoint does not speak TLS: unset DOCKER_TLS_VERIFY and DOCKER_TLS, or use the engine's TLS port"
	case isRemoteAlert(e.Err) && e.NoClientCert:
		hint = fmt.Sprintf("the engine asks for a client certificate and no client certificate was given: put cert.pem and key.pem, signed by a CA the engine trusts, beside ca.pem in %s", from)
	case isRemoteAlert(e.Err):
		hint = fmt.Sprintf("the engine refused the client certificate from %s: cert.pem/key.pem must be a client certificate the engine trusts (signed by its --tlscacert)", from)
	default:
		hint = fmt.Sprintf("check %s: ca.pem must sign the server certificate; cert.pem/key.pem must be a client certificate the engine trusts", from)
	}
	return fmt.Sprintf("TLS handshake with the engine at %s failed: %v; %s", e.Host, e.Err, hint)
}

// isRemoteAlert reports whether err is a TLS alert the engine sent, or
// the connection it dropped in place of one (see verdictConn).
func isRemoteAlert(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "remote error" || errors.Is(err, errClosedAfterHandshake)
}

var errClosedAfterHandshake = errors.New("the engine closed the connection right after the TLS handshake, before any answer")

// verdictConn is a TLS 1.3 connection whose first read still carries the
// engine's verdict on the client certificate: 1.3 finishes the client's
// handshake before the server has checked it, and a refusal comes as an
// alert on the first read. When the engine closes at once, a reset can
// beat the alert to the client (the kernel drops what was unread), and
// the read fails with ECONNRESET or EOF instead. That first failure is
// a *TLSError too.
type verdictConn struct {
	net.Conn
	c    *Client
	read bool
}

func (v *verdictConn) Read(p []byte) (int, error) {
	n, err := v.Conn.Read(p)
	if n > 0 {
		v.read = true
	}
	if err != nil && !v.read && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		return n, v.c.tlsError(fmt.Errorf("%w: %w", errClosedAfterHandshake, err))
	}
	return n, err
}

// CloseWrite half-closes the TLS stream, for a hijacked connection's stdin.
func (v *verdictConn) CloseWrite() error { return v.Conn.(*tls.Conn).CloseWrite() }

// tlsError wraps a TLS failure with where its configuration came from.
func (c *Client) tlsError(err error) *TLSError {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL says http:// because TLS sits in the dialer
	}
	var alert *net.OpError
	if errors.As(err, &alert) && alert.Op == "remote error" {
		err = alert // without net/http's internal prefixes
	}
	te := &TLSError{Host: c.ep.Host, From: c.ep.TLSFrom, NoClientCert: true, Err: err}
	if cfg := c.ep.TLS; cfg != nil && (len(cfg.Certificates) > 0 || cfg.GetClientCertificate != nil) {
		te.NoClientCert = false
	}
	return te
}

func (e *TLSError) Unwrap() error { return e.Err }

// Endpoint reports where the client connects and where that came from.
func (c *Client) Endpoint() Endpoint {
	if c == nil {
		return Endpoint{}
	}
	return c.ep
}

// CloseIdle closes the connections kept alive for reuse; the client stays
// usable.
func (c *Client) CloseIdle() { c.http.CloseIdleConnections() }

// Close releases idle connections and any transport processes. Later
// requests fail with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.CloseIdle()
	return nil
}

// Face returns the value SetFace stored, or nil.
func (c *Client) Face() any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.face
}

// SetFace stores the public client that wraps c, so every package that
// meets c hands users the same one. The first value stored wins; Face
// returns it.
func (c *Client) SetFace(f any) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.face == nil {
		c.face = f
	}
	return c.face
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}
