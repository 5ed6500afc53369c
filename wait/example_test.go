package wait_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"testing"
	"time"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/wait"
)

// Wait for a log line; postgres logs its ready line twice (init server,
// then the real one).
func ExampleForLog() {
	fmt.Println(wait.ForLog("database system is ready to accept connections").Times(2))
	fmt.Println(wait.ForLogRegexp(regexp.MustCompile(`listening on :\d+`)))
	// Output:
	// log "database system is ready to accept connections" ×2
	// log /listening on :\d+/
}

// Several conditions at once: all must hold.
func ExampleAll() {
	s := wait.All(
		wait.ForListeningPort("8080/tcp"),
		wait.ForHTTP("/healthz").Port("8080/tcp").Status(204),
		wait.ForExec("test", "-f", "/tmp/ready"),
	)
	fmt.Println(s)
	// Output: all(listening port 8080/tcp, http GET :8080/tcp/healthz status 204, exec "test -f /tmp/ready" exit 0)
}

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

// A strategy missing a required setting is refused before any container
// exists: the container builder runs Validate before its create, and a
// Strategy of your own can implement Validator to take part.
func ExampleValidate() {
	err := wait.Validate(wait.All(wait.ForLog("ready"), wait.ForHTTP("/healthz")))
	fmt.Println(err)
	fmt.Println(errors.Is(err, wait.ErrInvalidStrategy))
	fmt.Println(wait.Validate(wait.ForHTTP("/healthz").Port("8080/tcp")))
	// Output:
	// All(...): strategy 2 of 2: ForHTTP("/healthz"): no container port to probe: add .Port("8080/tcp")
	// true
	// <nil>
}
