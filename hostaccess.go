package berth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/berth-go/berth/container"
)

// HostInternal is the host name under which a container started with
// HostAccess reaches the test process's ports.
const HostInternal = "host.berth.internal"

// HostAccess lets the container reach servers of the test process (an
// httptest.Server, a gRPC server, ...) that listen on 127.0.0.1 or on
// every address: the container connects to HostInternal:port for each
// port given. berth listens on this machine's side of the engine's bridge
// network, on the same port, and relays to 127.0.0.1:port (or [::1]) for
// as long as the harness lives. It needs a local engine: Start fails with
// engine.ErrUnsupported when the engine's containers run on another
// machine.
func (b *ContainerBuilder) HostAccess(ports ...int) *ContainerBuilder {
	for _, p := range ports {
		if p < 1 || p > 65535 {
			return b.fail("HostAccess", &container.SpecError{Field: "HostAccess", Value: strconv.Itoa(p),
				Hint: "give the port a server of this process listens on (1-65535), e.g. srv.Listener.Addr().(*net.TCPAddr).Port"})
		}
	}
	b.hostPorts = append(b.hostPorts, ports...)
	return b
}

// grantHostAccess opens the relays of b's host ports for the scope and
// names them in the container's /etc/hosts.
func (b *ContainerBuilder) grantHostAccess(ctx context.Context) error {
	if len(b.hostPorts) == 0 {
		return nil
	}
	if b.shared {
		return callError("HostAccess", errors.New("a Shared container outlives this test binary, and its relays do not: start the container per test"))
	}
	addr, err := b.s.session.hosts.open(ctx, b.s, b.hostPorts)
	if err != nil {
		return callError("HostAccess", err)
	}
	b.spec.ExtraHosts = append(append([]string(nil), b.spec.ExtraHosts...), HostInternal+":"+addr)
	return nil
}

// hostRelays are a session's relays, one per port, shared by the scopes
// that asked for them.
type hostRelays struct {
	mu     sync.Mutex
	addr   string
	byPort map[int]*hostRelay
}

// open makes sure a relay listens for each port until s ends, and returns
// the address containers reach it on.
func (r *hostRelays) open(ctx context.Context, s *scope, ports []int) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.addr == "" {
		addr, err := s.client().HostAddress(ctx)
		if err != nil {
			return "", err
		}
		r.addr = addr
	}
	if r.byPort == nil {
		r.byPort = map[int]*hostRelay{}
	}
	for _, port := range ports {
		rel := r.byPort[port]
		if rel == nil {
			var err error
			if rel, err = listenRelay(r.addr, port); err != nil {
				return "", err
			}
			r.byPort[port] = rel
		}
		rel.refs++
		s.atEnd(func() { r.release(port) })
	}
	return r.addr, nil
}

// release drops one scope's use of a port's relay; the last one closes it.
func (r *hostRelays) release(port int) {
	r.mu.Lock()
	rel := r.byPort[port]
	if rel == nil {
		r.mu.Unlock()
		return
	}
	if rel.refs--; rel.refs > 0 {
		r.mu.Unlock()
		return
	}
	delete(r.byPort, port)
	r.mu.Unlock()
	rel.close()
}

// hostRelay accepts containers' connections on one address and port and
// relays each to the same port on this machine's loopback.
type hostRelay struct {
	ln   net.Listener // nil: the server listens on every address already
	port int
	refs int

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  bool
	wg    sync.WaitGroup
}

func listenRelay(addr string, port int) (*hostRelay, error) {
	rel := &hostRelay{port: port, conns: map[net.Conn]struct{}{}}
	hostPort := net.JoinHostPort(addr, strconv.Itoa(port))
	ln, err := net.Listen("tcp", hostPort)
	if err != nil {
		// A server listening on every address holds the port there too,
		// and containers reach it as it is.
		if c, derr := net.DialTimeout("tcp", hostPort, time.Second); derr == nil {
			c.Close()
			return rel, nil
		}
		return nil, fmt.Errorf("listen on %s for containers: %w", hostPort, err)
	}
	rel.ln = ln
	rel.wg.Add(1)
	go rel.serve()
	return rel, nil
}

func (r *hostRelay) serve() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return // closed
		}
		if !r.track(c) {
			c.Close()
			return
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer r.untrack(c)
			r.relay(c)
		}()
	}
}

// relay copies both ways between a container's connection and the
// server on loopback, passing on each side's end of writing.
func (r *hostRelay) relay(in net.Conn) {
	port := strconv.Itoa(r.port)
	out, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", port), 5*time.Second)
	if err != nil {
		if out, err = net.DialTimeout("tcp", net.JoinHostPort("::1", port), 5*time.Second); err != nil {
			return // nothing listens: the container sees the connection close
		}
	}
	if !r.track(out) {
		out.Close()
		return
	}
	defer r.untrack(out)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pipe(out, in)
	}()
	pipe(in, out)
	wg.Wait()
}

// pipe copies src to dst, then ends dst's writing side.
func pipe(dst, src net.Conn) {
	io.Copy(dst, src)
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	} else {
		dst.Close()
	}
}

func (r *hostRelay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *hostRelay) untrack(c net.Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
	c.Close()
}

// close stops listening, cuts the open connections and waits for the
// relay's goroutines.
func (r *hostRelay) close() {
	if r.ln == nil {
		return
	}
	r.ln.Close()
	r.mu.Lock()
	r.done = true
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}
