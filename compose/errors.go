package compose

import (
	"errors"
	"fmt"
	"strings"

	"github.com/berth-go/berth/wait"
)

// Errors matched with errors.Is.
var (
	// ErrFileNotFound: the Compose file does not exist (it also matches
	// fs.ErrNotExist).
	ErrFileNotFound = errors.New("compose file not found")
	// ErrInvalidFile: the file is not valid YAML or not a valid Compose
	// file (the loader's message says where).
	ErrInvalidFile = errors.New("invalid compose file")
	// ErrUnknownService: a service named by depends_on, by an option or
	// by Stack.Service is not in the file, or its profile is not active.
	ErrUnknownService = errors.New("unknown service")
	// ErrDependencyCycle: depends_on entries form a cycle.
	ErrDependencyCycle = errors.New("depends_on cycle")
	// ErrUnsupported: the file uses a Compose feature berth does not run
	// (network_mode, secrets, scale > 1, ...); the message names it.
	ErrUnsupported = errors.New("unsupported compose feature")
	// ErrDependencyFailed: a service was not started because a service it
	// depends on failed. Up reports the failed service, not this.
	ErrDependencyFailed = errors.New("a dependency failed")
)

// ServiceError reports a service that could not be built, started or made
// ready. Step is what failed ("build", "start", "wait for healthy",
// "wait for exit code 0", ...). When the container had stopped, ExitCode
// is its exit code (else -1) and LogTail its last log lines. It unwraps to
// the cause: a *container.StartError, a *container.PullError
// (errors.Is(err, container.ErrImageMissing) for an image that is not
// there), a *wait.ExitError, a build error, ...
type ServiceError struct {
	Service  string
	Step     string
	ExitCode int
	LogTail  []string
	Err      error
}

func (e *ServiceError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "compose service %q: %s: %v", e.Service, e.Step, e.Err)
	var we *wait.ExitError
	if e.ExitCode >= 0 && !errors.As(e.Err, &we) { // an ExitError already says both
		fmt.Fprintf(&b, " (exit code %d)", e.ExitCode)
		if len(e.LogTail) > 0 {
			fmt.Fprintf(&b, "; last %d log lines:", len(e.LogTail))
			for _, l := range e.LogTail {
				b.WriteString("\n  " + l)
			}
		}
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *ServiceError) Unwrap() error { return e.Err }

// serviceError wraps err for service name, taking the exit code and log
// tail from a *wait.ExitError when there is one.
func serviceError(name, step string, err error) *ServiceError {
	se := &ServiceError{Service: name, Step: step, ExitCode: -1, Err: err}
	var we *wait.ExitError
	if errors.As(err, &we) {
		se.ExitCode, se.LogTail = we.ExitCode, we.LogTail
	}
	return se
}
