// Package wire is berth's Engine API client: it finds the engine like the
// docker CLI does, negotiates the API version, and speaks the API's JSON,
// JSON-stream, multiplexed-stream and hijacked-connection forms without the
// Docker SDK.
package wire

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
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
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return c.dial(ctx) },
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

// send sends req; unless long, the engine must start its answer within
// respTimeout of the request being written (an upload is not counted),
// or the call ends with a *NoResponseError. The bound ends at the first
// byte of the answer: reading the body is bounded by ctx alone.
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
	trace := &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) {
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
				fired = true
				mu.Unlock()
				cancel(errNoResponse)
			})
		},
		GotFirstResponseByte: func() { stop() },
	}
	resp, err := c.http.Do(req.WithContext(httptrace.WithClientTrace(rctx, trace)))
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

// Ping is the engine's answer to GET /_ping.
type Ping struct {
	APIVersion     string
	OSType         string
	Experimental   bool
	BuilderVersion string
	Server         string
}

// Ping asks the engine for its API version and builder. It uses no version
// prefix, so it works before negotiation.
func (c *Client) Ping(ctx context.Context) (Ping, error) {
	if c == nil {
		return Ping{}, fmt.Errorf("GET /_ping: %w", ErrNoClient)
	}
	if c.isClosed() {
		return Ping{}, fmt.Errorf("GET /_ping: %w", ErrClosed)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.scheme+"://"+c.urlHost+"/_ping", nil)
	if err != nil {
		return Ping{}, err
	}
	resp, err := c.send(ctx, req, false)
	if err != nil {
		return Ping{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 400 {
		if strings.Contains(string(body), "HTTP request to an HTTPS server") {
			return Ping{}, fmt.Errorf("the engine at %s speaks TLS but the client was not told to: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the directory with ca.pem, cert.pem and key.pem", c.ep.Host)
		}
		return Ping{}, &APIError{Method: "GET", Path: "/_ping", StatusCode: resp.StatusCode, Message: strings.TrimSpace(string(body))}
	}
	p := Ping{
		APIVersion:     resp.Header.Get("API-Version"),
		OSType:         resp.Header.Get("OSType"),
		Experimental:   resp.Header.Get("Docker-Experimental") == "true",
		BuilderVersion: resp.Header.Get("Builder-Version"),
		Server:         resp.Header.Get("Server"),
	}
	return p, nil
}

// IsPodman reports whether the engine is Podman's Docker-compatible API,
// which names itself "Libpod" in the Server header.
func (p Ping) IsPodman() bool { return strings.HasPrefix(p.Server, "Libpod") }

// IsPodman reports whether the client talks to Podman rather than dockerd.
// This is the one place berth tells the engines apart; the answer comes from
// the ping cached at negotiation. An engine that cannot be asked counts as
// not Podman: the caller's next request reports why.
func (c *Client) IsPodman(ctx context.Context) bool {
	p, err := c.PingInfo(ctx)
	return err == nil && p.IsPodman()
}

// Version returns the negotiated API version, negotiating if needed.
func (c *Client) Version(ctx context.Context) (string, error) {
	if c == nil {
		return "", ErrNoClient
	}
	c.mu.Lock()
	v := c.version
	c.mu.Unlock()
	if v != "" {
		return v, nil
	}
	p, err := c.Ping(ctx)
	if err != nil {
		return "", err
	}
	v = p.APIVersion
	if v == "" {
		v = MinAPIVersion
	}
	if compareVersions(v, MinAPIVersion) < 0 {
		return "", fmt.Errorf("engine at %s speaks API %s; berth needs %s or newer: upgrade the engine (Docker 20.10+)", c.ep.Host, v, MinAPIVersion)
	}
	if compareVersions(v, MaxAPIVersion) > 0 {
		v = MaxAPIVersion
	}
	c.mu.Lock()
	if c.version == "" {
		c.version = v
		c.ping = p
	}
	v = c.version
	c.mu.Unlock()
	return v, nil
}

// PingInfo returns the ping answer seen at negotiation.
func (c *Client) PingInfo(ctx context.Context) (Ping, error) {
	if _, err := c.Version(ctx); err != nil {
		return Ping{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ping.APIVersion == "" {
		c.mu.Unlock()
		p, err := c.Ping(ctx)
		c.mu.Lock()
		if err != nil {
			return Ping{}, err
		}
		c.ping = p
	}
	return c.ping, nil
}

// compareVersions compares dotted API versions numerically.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// VersionAtLeast reports whether the negotiated version is v or newer.
func (c *Client) VersionAtLeast(ctx context.Context, v string) (bool, error) {
	have, err := c.Version(ctx)
	if err != nil {
		return false, err
	}
	return compareVersions(have, v) >= 0, nil
}

// Request describes one Engine API call.
type Request struct {
	Method string
	Path   string // e.g. /containers/create, without version prefix
	Query  url.Values
	Header http.Header
	Body   io.Reader
	// JSON, when set, is encoded as the body with a JSON content type.
	JSON any
	// Long marks a call whose answer waits on work of open-ended length
	// (a followed stream, a wait, a pull, a build, a stop): the response
	// timeout does not apply to it, ctx alone bounds it.
	Long bool
}

func (c *Client) newRequest(ctx context.Context, r Request) (*http.Request, error) {
	if c == nil {
		return nil, fmt.Errorf("%s %s: %w", r.Method, r.Path, ErrNoClient)
	}
	if ctx == nil {
		return nil, fmt.Errorf("%s %s: %w", r.Method, r.Path, ErrNilContext)
	}
	if c.isClosed() {
		return nil, fmt.Errorf("%s %s: %w", r.Method, r.Path, ErrClosed)
	}
	v, err := c.Version(ctx)
	if err != nil {
		return nil, err
	}
	u := c.scheme + "://" + c.urlHost + "/v" + v + r.Path
	if len(r.Query) > 0 {
		u += "?" + r.Query.Encode()
	}
	body := r.Body
	if r.JSON != nil {
		buf, err := json.Marshal(r.JSON)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", r.Method, r.Path, err)
		}
		body = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if r.JSON != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", c.userAgnt)
	return req, nil
}

// Do sends r and returns the response when its status is below 400;
// otherwise it reads the engine's message and returns an *APIError. The
// caller closes the body.
func (c *Client) Do(ctx context.Context, r Request) (*http.Response, error) {
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, req, r.Long)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 || resp.StatusCode == http.StatusNotModified {
		defer resp.Body.Close()
		return nil, readAPIError(r.Method, r.Path, resp)
	}
	return resp, nil
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

// readAPIError reads at most maxErrorBody of an error answer and keeps at
// most maxErrorMessage of its message.
func readAPIError(method, path string, resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	msg := strings.TrimSpace(string(data))
	var body struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &body) == nil && body.Message != "" {
		msg = body.Message
	}
	return &APIError{Method: method, Path: path, StatusCode: resp.StatusCode, Message: cutMessage(msg)}
}

// DoJSON sends r and decodes a JSON answer into out (when out is not nil).
// The answer is bounded (4 MiB, and a number of JSON values): a larger one
// is an *AnswerTooLargeError.
func (c *Client) DoJSON(ctx context.Context, r Request, out any) error {
	return c.doJSON(ctx, r, objectAnswer, out)
}

func (c *Client) doJSON(ctx context.Context, r Request, b answerBound, out any) error {
	resp, err := c.Do(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		// Read what a sane answer holds so the connection can be reused;
		// closing the body drops it otherwise.
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
		return nil
	}
	return decodeAnswer(resp.Body, r.Method, r.Path, b, out)
}

// Filters are Engine API list filters such as {"label": {"a=b"}}.
type Filters map[string][]string

func (f Filters) encode() string {
	if len(f) == 0 {
		return ""
	}
	b, _ := json.Marshal(map[string][]string(f))
	return string(b)
}

func filterQuery(q url.Values, f Filters) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if s := f.encode(); s != "" {
		q.Set("filters", s)
	}
	return q
}

// setNonEmpty sets the query parameter key to value unless value is empty:
// an absent parameter leaves the engine's default.
func setNonEmpty(q url.Values, key, value string) {
	if value != "" {
		q.Set(key, value)
	}
}
