package wait

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// PortStrategy waits until a container port accepts connections, checked
// from the host through the mapped port and inside the container.
type PortStrategy struct {
	port string
}

// ForListeningPort waits for port ("5432/tcp" or "5432") to listen. The
// check inside the container needs no shell, so scratch and distroless
// images work: it reads the container's TCP table from the host
// (/proc/<pid>/net/tcp) when the engine runs on this machine, else runs
// `cat /proc/net/tcp` when the image has cat; and in every case a
// connection through the mapped port must be accepted by the process, not
// only by the engine's port proxy.
func ForListeningPort(port string) *PortStrategy { return &PortStrategy{port: port} }

// String describes the wait.
func (s *PortStrategy) String() string { return "listening port " + s.port }

// ErrPortNotPublished is matched by Target.MappedPort errors for a port
// that has no host binding. ForListeningPort then checks inside the
// container only (a service reached over a network by alias).
var ErrPortNotPublished = errors.New("port not published")

// HostPIDer is implemented by targets whose processes are visible on this
// machine: it returns the host PID of the container's main process.
type HostPIDer interface {
	HostPID(ctx context.Context) (int, bool)
}

func portNumber(port string) (int, string, error) {
	num, proto, _ := strings.Cut(port, "/")
	if proto == "" {
		proto = "tcp"
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > 65535 {
		return 0, "", errors.New(`want a port number from 1 to 65535 with an optional /tcp, like "5432/tcp"`)
	}
	if proto != "tcp" {
		return 0, "", errors.New("only tcp ports can be waited for")
	}
	return n, proto, nil
}

// Validate reports a port that is not a tcp port number.
func (s *PortStrategy) Validate() error {
	if p := portProblem(s.port); p != "" {
		return invalid(fmt.Sprintf("ForListeningPort(%q)", s.port), "%s", p)
	}
	return nil
}

// Ready blocks until the port listens inside the container and accepts
// connections from the host.
func (s *PortStrategy) Ready(ctx context.Context, t Target) error {
	if err := s.Validate(); err != nil {
		return err
	}
	inner, _, _ := portNumber(s.port)
	return run(ctx, t, s.String(), func(ctx context.Context, seen *observation) error {
		host, err := t.Host(ctx)
		if err != nil {
			return err
		}
		addr := ""
		mapped, err := t.MappedPort(ctx, s.port)
		switch {
		case err == nil:
			addr = net.JoinHostPort(host, strconv.Itoa(mapped))
		case !errors.Is(err, ErrPortNotPublished):
			return err
		}
		return poll(ctx, func() error {
			listening, how, err := listensInside(ctx, t, inner)
			if err != nil {
				seen.set("inside check (%s): %v", how, err)
				return err
			}
			if listening == notListening {
				seen.set("port %d not listening inside the container (%s)", inner, how)
				return errors.New("not listening")
			}
			if addr == "" {
				if listening == unknown {
					return backoff.Permanent(fmt.Errorf("port %s is not published and the container's TCP table cannot be read: publish it with Port(%q) or wait another way", s.port, s.port))
				}
				return nil
			}
			if err := acceptedThrough(ctx, addr); err != nil {
				seen.set("connect %s: %v", addr, err)
				return err
			}
			return nil
		})
	})
}

type listenState int

const (
	unknown listenState = iota
	listening
	notListening
)

// listensInside reads the container's TCP tables.
func listensInside(ctx context.Context, t Target, port int) (listenState, string, error) {
	if p, ok := t.(HostPIDer); ok {
		if pid, ok := p.HostPID(ctx); ok && pid > 0 {
			var tables []string
			for _, f := range []string{"tcp", "tcp6"} {
				b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, f))
				if err == nil {
					tables = append(tables, string(b))
				}
			}
			if len(tables) > 0 {
				return tcpTableState(strings.Join(tables, "\n"), port), "host /proc", nil
			}
		}
	}
	res, err := t.Exec(ctx, []string{"cat", "/proc/net/tcp", "/proc/net/tcp6"})
	if err == nil && len(res.Stdout) > 0 {
		return tcpTableState(string(res.Stdout), port), "exec cat", nil
	}
	return unknown, "connect only", nil
}

// tcpTableState looks for port in LISTEN state (st 0A) in /proc/net/tcp
// format.
func tcpTableState(table string, port int) listenState {
	want := fmt.Sprintf(":%04X", port)
	sc := bufio.NewScanner(strings.NewReader(table))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || f[0] == "sl" {
			continue
		}
		if strings.HasSuffix(f[1], want) && f[3] == "0A" {
			return listening
		}
	}
	return notListening
}

// acceptedThrough connects to addr and makes sure the connection reached a
// process: the engine's port proxy accepts even when nothing listens inside
// and then closes at once, while a real server either waits for the client
// to speak or greets it.
func acceptedThrough(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var b [1]byte
	_, err = conn.Read(b[:])
	var ne net.Error
	switch {
	case err == nil:
		return nil // the server spoke first
	case errors.As(err, &ne) && ne.Timeout():
		return nil // the server waits for us
	case errors.Is(err, io.EOF):
		return errors.New("connection closed at once (only the engine's port proxy answered)")
	}
	return err
}
