package wait_test

import (
	"bytes"
	"fmt"
	"regexp"
	"testing"

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
