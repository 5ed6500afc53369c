package berth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/link"
	"github.com/berth-go/berth/registry"
	"github.com/google/uuid"
)

// Option configures a Session (and, through New, the shared test session).
type Option func(*sessionConfig)

type sessionConfig struct {
	engineOpts []engine.Option
	watchdog   bool
	skip       bool // SkipWithoutEngine
	mirrors    []mirrorRule
}

// SkipWithoutEngine makes New skip the test, instead of failing it, when
// no engine answers: for `go test ./...` on a laptop without Docker. The
// variable BERTH_SKIP_WITHOUT_ENGINE=1 does the same for every test. On CI
// (the CI variable set) a missing engine still fails the test unless
// BERTH_SKIP_WITHOUT_ENGINE=1 says to skip there too. Other errors (a
// DOCKER_HOST that is not a URL, bad TLS files) always fail.
func SkipWithoutEngine() Option { return func(c *sessionConfig) { c.skip = true } }

// skipWithoutEngine says why New skips rather than fails on err, "" when
// it must fail.
func skipWithoutEngine(opts []Option, err error) string {
	if !errors.Is(err, engine.ErrDaemonUnreachable) {
		return ""
	}
	var cfg sessionConfig
	for _, o := range opts {
		o(&cfg)
	}
	told := os.Getenv("BERTH_SKIP_WITHOUT_ENGINE") == "1"
	ci := os.Getenv("CI")
	onCI := ci != "" && ci != "0" && ci != "false"
	switch {
	case told:
		return fmt.Sprintf("berth: no engine answers, test skipped (BERTH_SKIP_WITHOUT_ENGINE=1): %v", err)
	case cfg.skip && !onCI:
		return fmt.Sprintf("berth: no engine answers, test skipped (SkipWithoutEngine; on CI it fails unless BERTH_SKIP_WITHOUT_ENGINE=1): %v", err)
	}
	return ""
}

// WithEngine uses the engine at host (unix://, tcp://, ssh://) instead of
// the environment.
func WithEngine(host string) Option {
	return func(c *sessionConfig) { c.engineOpts = append(c.engineOpts, engine.WithHost(host)) }
}

// WithoutWatchdog turns off the watchdog process that removes the session's
// resources when the process dies. Cleanup then relies on t.Cleanup and
// Close alone.
func WithoutWatchdog() Option { return func(c *sessionConfig) { c.watchdog = false } }

// Session owns an engine connection and every resource made through it.
// Tests get one shared session per test binary through New; TestMain and
// tools make their own with NewSession and Close it.
type Session struct {
	*scope
	client   *engine.Client
	id       string
	keychain registry.Keychain
	mirrors  []mirrorRule // WithImageMirror, then BERTH_IMAGE_MIRROR
	watchdog *watchdog
	tmp      string // the session's temporary files (builds'); removed at Close and by the watchdog
	closed   sync.Once

	keptMu sync.Mutex
	kept   map[string]bool // IDs left for a post-mortem (BERTH_KEEP_FAILED)

	hosts hostRelays // HostAccess
	fills fills      // warm-start cache fills in the background
}

// NewSession connects to the engine (DOCKER_HOST, DOCKER_CONTEXT, or the
// first local socket that answers, see engine.New), checks that it answers, and starts the session's
// watchdog. The caller must Close it.
func NewSession(ctx context.Context, opts ...Option) (*Session, error) {
	cfg := sessionConfig{watchdog: os.Getenv("BERTH_WATCHDOG_OFF") == ""}
	for _, o := range opts {
		o(&cfg)
	}
	envMirrors, err := mirrorsFromEnv()
	if err != nil {
		return nil, fmt.Errorf("berth: %w", err)
	}
	client, err := engine.New(cfg.engineOpts...)
	if err != nil {
		return nil, fmt.Errorf("berth: %w", err)
	}
	if _, err := client.Version(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("berth: %w", err)
	}
	s := &Session{client: client, id: uuid.NewString(), keychain: registry.DefaultKeychain(), mirrors: append(cfg.mirrors, envMirrors...)}
	s.tmp = filepath.Join(os.TempDir(), "berth-session-"+s.id)
	labels := ownerLabels(time.Now())
	labels[engine.LabelSession] = s.id
	s.scope = newScope(s, nil, labels)
	if cfg.watchdog {
		wd, err := startWatchdog(s.id, link.Wire(client).Endpoint().Host)
		if err != nil {
			client.Close()
			return nil, fmt.Errorf("berth: start watchdog: %w", err)
		}
		s.watchdog = wd
		wd.note("dir", s.tmp, true)
	}
	go removeExpired(client)
	return s, nil
}

// T is nil: a session belongs to no test (see Scope).
func (s *Session) T() testing.TB { return nil }

// ID is the session's UUID, the value of the berth.session label.
func (s *Session) ID() string { return s.id }

// Engine is the session's engine client. Closing the session closes it.
func (s *Session) Engine() *engine.Client { return s.client }

// Close removes every resource of the session and stops its watchdog.
// Calls made through the session afterwards fail with engine.ErrClosed.
func (s *Session) Close(ctx context.Context) error {
	var err error
	s.closed.Do(func() {
		s.gate.close(ctx) // in-flight starts end, and register what they made
		s.waitFills(fillPatience)
		err = s.scope.cleanup(ctx)
		// What the scope did not know of: creates that were in flight.
		if lerr := s.sweep(ctx); lerr != nil && err == nil {
			err = lerr
		}
		os.RemoveAll(s.tmp)
		if s.watchdog != nil {
			s.watchdog.release()
		}
		s.client.Close()
	})
	return err
}

// Leftovers lists the session's resources still on the engine, but for
// those kept on purpose (BERTH_KEEP_FAILED).
func (s *Session) Leftovers(ctx context.Context) ([]engine.Resource, error) {
	rs, err := s.client.List(ctx, engine.Labelled(engine.SessionSelector(s.id)))
	if err != nil {
		return nil, err
	}
	return s.unkept(rs), nil
}

var (
	shared     *Session
	sharedErr  error
	sharedOnce sync.Once
)

// sharedSession is the one session of a test binary, created on first use.
func sharedSession(opts []Option) (*Session, error) {
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		shared, sharedErr = NewSession(ctx, opts...)
	})
	return shared, sharedErr
}

// Leftovers lists the resources of the shared test session still on the
// engine. It returns nil when no test made a session.
func Leftovers(ctx context.Context) ([]engine.Resource, error) {
	if shared == nil {
		return nil, nil
	}
	return shared.Leftovers(ctx)
}

// Main runs the tests of m and then fails the binary if any resource of the
// shared session (the one berth.New uses) is left on the engine. Use it
// from TestMain:
//
//	func TestMain(m *testing.M) { berth.Main(m) }
//
// Main ends the process (os.Exit), so nothing deferred in TestMain runs
// after it. A TestMain that starts a Session of its own for servers its
// tests share calls m.Run itself, then closes that session and checks
// Leftovers, as examples/main_test.go in berth's repository does.
func Main(m interface{ Run() int }) {
	mainActive.Store(true)
	code := m.Run()
	if shared != nil {
		// Warm-start caches still filling: their containers are no leak.
		shared.waitFills(fillPatience)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		left, err := shared.Leftovers(ctx)
		switch {
		case err != nil:
			fmt.Fprintf(os.Stderr, "berth: leftover check failed: %v\n", err)
			code = 1
		case len(left) > 0:
			fmt.Fprintf(os.Stderr, "berth: %d resources of session %s were left on the engine (a leak):\n", len(left), shared.id)
			for _, l := range left {
				fmt.Fprintln(os.Stderr, "  ", l)
			}
			code = 1
		}
		shared.Close(ctx)
		cancel()
	}
	os.Exit(code)
}
