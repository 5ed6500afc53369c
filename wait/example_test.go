package wait_test

import (
	"errors"
	"fmt"
	"regexp"

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
