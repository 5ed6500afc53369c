//go:build !mutation

// Needs an engine: left out of mutation runs (scripts/mutation.sh).

package wait_test

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/wait"
)

// A readiness check on the HTTP body.
func ExampleForHTTP() {
	var t *testing.T
	h := berth.New(t)
	h.Container("busybox:1.36").
		Cmd("sh", "-c", "mkdir -p /www && echo ok > /www/health && exec httpd -f -p 8080 -h /www").
		Port("8080/tcp").
		WaitFor(wait.ForHTTP("/health").Port("8080/tcp").BodyMatcher(func(b []byte) bool { return bytes.HasPrefix(b, []byte("ok")) })).
		Start()
}

// serverUp is a strategy of its own: after the "ready" line of the log,
// dial the mapped port until it answers. wait.Watch gives it the package's
// rules: a default timeout, a fast failure with the exit code and the last
// log lines when the container exits, and a timeout error that says what
// was seen last.
type serverUp struct{}

func (serverUp) String() string { return `log "ready", then a TCP dial` }

func (s serverUp) Ready(ctx context.Context, t wait.Target) error {
	return wait.Watch(ctx, t, s.String(), func(ctx context.Context, seen func(string, ...any)) error {
		lines, err := wait.FollowLog(ctx, t, "ready")
		if err != nil {
			return err
		}
		addr, err := wait.Address(ctx, t, "7000/tcp")
		if err != nil {
			return err
		}
		seen("no ready line yet")
		if err := lines.Next(ctx); err != nil {
			return err
		}
		for {
			conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
			if err == nil {
				return conn.Close()
			}
			seen("dial %s: %v", addr, err)
			select {
			case <-time.After(10 * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
}

// A strategy of one's own, built on Watch and FollowLog.
func ExampleWatch() {
	var t *testing.T
	h := berth.New(t)
	h.Container("busybox:1.36").
		Cmd("sh", "-c", "echo ready && exec nc -lk -p 7000 -e cat").
		Port("7000/tcp").
		WaitFor(serverUp{}).
		Start()
}
