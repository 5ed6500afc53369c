package wire

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Ping and the API version: what the client negotiates before its first
// versioned call.

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
