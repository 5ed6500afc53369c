package wire

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
)

// PublishHost is where an engine at host publishes container ports, seen
// from a process that shares the engine's network: 127.0.0.1 for a local
// socket or an engine listening on every address, else the engine's host
// name.
func PublishHost(host string) string {
	u, err := url.Parse(host)
	if err != nil {
		return "127.0.0.1"
	}
	switch u.Scheme {
	case "tcp", "ssh", "http", "https":
		h := u.Hostname()
		if h == "" {
			return "127.0.0.1"
		}
		// An engine listening on every address is reached on loopback.
		if ip := net.ParseIP(h); ip != nil && ip.IsUnspecified() {
			return "127.0.0.1"
		}
		return h
	}
	return "127.0.0.1"
}

// Where this process runs, for PortHost; tests replace them.
var (
	// containerMarkers are the files engines put at a container's root.
	containerMarkers = []string{"/.dockerenv", "/run/.containerenv"}
	// localAddrs lists the addresses of this network namespace.
	localAddrs = net.InterfaceAddrs
)

// PortHost is where this process reaches the ports the engine publishes.
// It is PublishHost, except for a local socket seen from inside a
// container (the host's socket mounted into a CI job's container, as with
// `-v /var/run/docker.sock:/var/run/docker.sock`): there 127.0.0.1 is the
// job container's own loopback, and ports are reached on the host's side
// of the bridge, the gateway of the engine's "bridge" network. When that
// address is unknown or belongs to this process's
// own network (the engine runs in this container, or the job container
// uses the host's network), 127.0.0.1 is right after all. The answer is
// asked once per client.
func (c *Client) PortHost(ctx context.Context) string {
	if c.ep.Scheme() != "unix" || !inContainer() {
		return PublishHost(c.ep.Host)
	}
	c.mu.Lock()
	h := c.portHost
	c.mu.Unlock()
	if h != "" {
		return h
	}
	h = c.gatewayHost(ctx)
	c.mu.Lock()
	c.portHost = h
	c.mu.Unlock()
	return h
}

// gatewayHost finds the host's address from inside a container.
func (c *Client) gatewayHost(ctx context.Context) string {
	if c.rootless(ctx) {
		// A rootless engine's bridge lives in the engine's own network
		// namespace, out of this one's reach; rootlesskit (Docker) and
		// rootlessport (Podman) publish ports on the addresses of the
		// namespace the engine runs in: this container's loopback when
		// the engine runs here. (A rootless engine's socket mounted in
		// from another machine or container needs BERTH_HOST.)
		return "127.0.0.1"
	}
	gw := ""
	if n, err := c.NetworkInspect(ctx, "bridge"); err == nil {
		gw = n.gateway()
	}
	// Not knowing the gateway, keep loopback: right whenever the engine
	// shares this network, as it did before berth looked further.
	if gw == "" || isLocalAddr(gw) {
		return "127.0.0.1"
	}
	return gw
}

// rootless reports whether the engine runs as a non-root user: Podman's
// Rootless, rootless Docker's "name=rootless" security option.
func (c *Client) rootless(ctx context.Context) bool {
	info, err := c.Info(ctx)
	if err != nil {
		return false
	}
	if info.Rootless {
		return true
	}
	for _, o := range info.SecurityOptions {
		if o == "name=rootless" || strings.HasPrefix(o, "name=rootless,") {
			return true
		}
	}
	return false
}

func inContainer() bool {
	for _, f := range containerMarkers {
		if _, err := os.Stat(f); err == nil {
			return true
		}
	}
	return false
}

// gateway is the first IPv4 gateway of the network's address pools. An
// engine that chose the pool itself may leave Gateway out (a fresh
// dockerd's "bridge" says only its Subnet): the bridge then holds the
// subnet's first address.
func (n *NetworkResource) gateway() string {
	for _, cfg := range n.IPAM.Config {
		if ip := net.ParseIP(cfg.Gateway); ip != nil && ip.To4() != nil {
			return ip.String()
		}
	}
	for _, cfg := range n.IPAM.Config {
		_, sn, err := net.ParseCIDR(cfg.Subnet)
		if err != nil {
			continue
		}
		if ip := sn.IP.To4(); ip != nil {
			return net.IPv4(ip[0], ip[1], ip[2], ip[3]+1).String()
		}
	}
	return ""
}

func isLocalAddr(ip string) bool {
	addrs, err := localAddrs()
	if err != nil {
		return false
	}
	want := net.ParseIP(ip)
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(want) {
			return true
		}
	}
	return false
}

// HostAddress is the address of this process's machine (or job container)
// that the engine's containers reach: the engine's side of its bridge
// network on the engine's own host, or this container's address on the
// bridge when this process runs in a container next to the engine's. Only
// a local (unix socket) engine's containers can reach this process.
func (c *Client) HostAddress(ctx context.Context) (string, error) {
	if c.ep.Scheme() != "unix" {
		return "", fmt.Errorf("%w: containers of the engine at %s run on another machine and cannot reach this process's ports; run the test next to the engine (a local socket) or expose the port on a network both reach", ErrUnsupported, RedactHost(c.ep.Host))
	}
	n, err := c.NetworkInspect(ctx, "bridge")
	if err != nil {
		return "", fmt.Errorf("find the engine's bridge network: %w", err)
	}
	gw := n.gateway()
	if gw == "" {
		return "", fmt.Errorf("%w: the engine's bridge network has no IPv4 gateway to reach this process on", ErrUnsupported)
	}
	// The source address of a route to the gateway: the gateway itself
	// when it is this machine's, else this container's address facing it.
	conn, err := net.Dial("udp4", net.JoinHostPort(gw, "9"))
	if err != nil {
		return "", fmt.Errorf("%w: no route to the engine's bridge gateway %s: %v", ErrUnsupported, gw, err)
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.UDPAddr).IP.String(), nil
}
