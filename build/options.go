package build

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/berth-go/berth/registry"
)

// Secret is a build secret: the content of a file or of an environment
// variable, mounted by `RUN --mount=type=secret,id=...` (BuildKit only).
type Secret struct {
	File string
	Env  string
}

// Options shape a build. The zero value builds the context's Dockerfile for
// the engine's platform.
type Options struct {
	Tags       []string          // references to tag the image with
	Args       map[string]string // --build-arg
	Target     string            // --target stage
	Labels     map[string]string // labels on the image
	NoCache    bool              // ignore the builder's cache and berth's
	Pull       bool              // pull newer base images
	Platform   string            // e.g. linux/amd64
	Network    string            // network mode of RUN steps
	ExtraHosts []string          // "host:ip" for RUN steps
	ShmSize    int64             // bytes of /dev/shm for RUN steps

	// BuildKit only: a classic build with any of these is an
	// ErrNeedsBuildKit. The ids of Secrets and SSH are part of the input
	// hash; their values, files, keys and sockets are not, so a changed
	// value alone reuses an earlier build (NoCache runs it again).
	Secrets       map[string]Secret
	SSH           map[string][]string // id → agent socket or key files (empty: $SSH_AUTH_SOCK)
	CacheFrom     string              // local cache directory to import
	CacheTo       string              // local cache directory to export
	BuildContexts map[string]string   // named contexts: name → directory

	// Exports write the image to files too (docker save's format or an
	// OCI layout), after the build or its reuse.
	Exports []Export

	// Output receives the build log as it happens.
	Output io.Writer
	// Keychain supplies credentials for private base images; nil means the
	// user's Docker configuration.
	Keychain registry.Keychain
	// TempDir is where a build writes temporary files (in-memory context
	// files, which may hold secrets); it is created when missing. Empty
	// means os.TempDir(). The harness gives each session its own, which
	// the session and its watchdog remove.
	TempDir string
}

// check finds inputs that cannot work, before any cache lookup or build:
// secret files and ssh sockets or keys that do not exist, secret
// variables that are not set.
func (o Options) check() error {
	for id, s := range o.Secrets {
		switch {
		case s.File != "" && s.Env != "":
			return fmt.Errorf("secret %q: give a file or an environment variable, not both", id)
		case s.File != "":
			if _, err := os.Stat(s.File); err != nil {
				return fmt.Errorf("secret %q: %w", id, err)
			}
		case s.Env != "":
			if _, ok := os.LookupEnv(s.Env); !ok {
				return fmt.Errorf("secret %q: the environment variable %s is not set", id, s.Env)
			}
		default:
			return fmt.Errorf("secret %q: give a file or an environment variable", id)
		}
	}
	for _, e := range o.Exports {
		if err := e.check(); err != nil {
			return err
		}
	}
	for id, paths := range o.SSH {
		for _, p := range paths {
			if _, err := os.Stat(p); err != nil {
				return fmt.Errorf("ssh %q: %w: give an ssh agent socket or private key files", id, err)
			}
		}
	}
	return nil
}

// ErrNeedsBuildKit says a build uses a feature the classic builder lacks.
var ErrNeedsBuildKit = errors.New("needs BuildKit")

// Error is a failed build: the step that failed, with the last lines of the
// build log.
type Error struct {
	Backend string
	Step    string
	Log     []string
	Err     error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("build (%s)", e.Backend)
	if e.Step != "" {
		msg += " at " + e.Step
	}
	msg += ": " + e.Err.Error()
	if len(e.Log) > 0 {
		msg += "\n  last build log lines:"
		for _, l := range e.Log {
			msg += "\n    " + l
		}
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// tail keeps the last n lines written to it, and passes everything on.
type tail struct {
	n     int
	lines []string
	part  string
	out   io.Writer
}

func (t *tail) Write(p []byte) (int, error) {
	if t.out != nil {
		t.out.Write(p)
	}
	s := t.part + string(p)
	for {
		i := indexNL(s)
		if i < 0 {
			break
		}
		t.add(s[:i])
		s = s[i+1:]
	}
	t.part = s
	return len(p), nil
}

// ansi matches terminal colour codes the classic builder puts around
// stderr output.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func (t *tail) add(line string) {
	line = strings.TrimRight(ansi.ReplaceAllString(line, ""), "\r")
	if line == "" {
		return
	}
	t.lines = append(t.lines, line)
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
}

// Lines returns the kept lines, a last partial line included.
func (t *tail) Lines() []string {
	out := append([]string(nil), t.lines...)
	if t.part != "" {
		out = append(out, t.part)
	}
	if len(out) > t.n {
		out = out[len(out)-t.n:]
	}
	return out
}

func indexNL(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return i
		}
	}
	return -1
}
