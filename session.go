package berth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/registry"
)

// Labels every resource carries.
const (
	LabelSession = "berth.session"
	LabelTest    = "berth.test"
	LabelPID     = "berth.pid"
)

// Option configures a Session (and, through New, the shared test session).
type Option func(*sessionConfig)

type sessionConfig struct {
	wireOpts []wire.Option
	watchdog bool
	host     string
}

// WithEngine uses the engine at host (unix://, tcp://, ssh://) instead of
// the environment.
func WithEngine(host string) Option {
	return func(c *sessionConfig) { c.wireOpts = append(c.wireOpts, wire.WithHost(host)) }
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
	client   *wire.Client
	id       string
	keychain registry.Keychain
	watchdog *watchdog
	closed   sync.Once
}

// NewSession connects to the engine (DOCKER_HOST, DOCKER_CONTEXT, or the
// default socket), checks that it answers, and starts the session's
// watchdog. The caller must Close it.
func NewSession(ctx context.Context, opts ...Option) (*Session, error) {
	cfg := sessionConfig{watchdog: os.Getenv("BERTH_WATCHDOG_OFF") == ""}
	for _, o := range opts {
		o(&cfg)
	}
	client, err := wire.New(cfg.wireOpts...)
	if err != nil {
		return nil, fmt.Errorf("berth: %w", err)
	}
	if _, err := client.Version(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("berth: %w", err)
	}
	s := &Session{client: client, id: newSessionID(), keychain: registry.DefaultKeychain()}
	s.scope = newScope(s, nil, map[string]string{
		LabelSession: s.id,
		LabelPID:     strconv.Itoa(os.Getpid()),
	})
	if cfg.watchdog {
		wd, err := startWatchdog(s.id, client.Endpoint())
		if err != nil {
			client.Close()
			return nil, fmt.Errorf("berth: start watchdog: %w", err)
		}
		s.watchdog = wd
	}
	return s, nil
}

// newSessionID returns a random (version 4) UUID.
func newSessionID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ID is the session's UUID, the value of the berth.session label.
func (s *Session) ID() string { return s.id }

// Engine is the session's engine client.
func (s *Session) Engine() *wire.Client { return s.client }

// Close removes every resource of the session and stops its watchdog.
func (s *Session) Close(ctx context.Context) error {
	var err error
	s.closed.Do(func() {
		err = s.scope.cleanup(ctx)
		if lerr := sweep(ctx, s.client, s.id); lerr != nil && err == nil {
			err = lerr
		}
		if s.watchdog != nil {
			s.watchdog.release()
		}
		s.client.Close()
	})
	return err
}

// Leftovers lists the session's resources still on the engine, as
// "kind name" strings.
func (s *Session) Leftovers(ctx context.Context) ([]string, error) {
	return listLabelled(ctx, s.client, wire.Filters{"label": {LabelSession + "=" + s.id}})
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
func Leftovers(ctx context.Context) ([]string, error) {
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
	code := m.Run()
	if shared != nil {
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

func listLabelled(ctx context.Context, c *wire.Client, f wire.Filters) ([]string, error) {
	var out []string
	cs, err := c.ContainerList(ctx, true, f)
	if err != nil {
		return nil, err
	}
	for _, x := range cs {
		out = append(out, fmt.Sprintf("container %.12s %v (%s)", x.ID, x.Names, x.Labels[LabelTest]))
	}
	ns, err := c.NetworkList(ctx, f)
	if err != nil {
		return nil, err
	}
	for _, x := range ns {
		out = append(out, "network "+x.Name)
	}
	vs, err := c.VolumeList(ctx, f)
	if err != nil {
		return nil, err
	}
	for _, x := range vs {
		out = append(out, "volume "+x.Name)
	}
	is, err := c.ImageList(ctx, f)
	if err != nil {
		return nil, err
	}
	for _, x := range is {
		out = append(out, fmt.Sprintf("image %.19s %v", x.ID, x.RepoTags))
	}
	return out, nil
}

// sweep removes everything labelled with session id: containers first, then
// networks, volumes and images.
func sweep(ctx context.Context, c *wire.Client, id string) error {
	f := wire.Filters{"label": {LabelSession + "=" + id}}
	var errs []error
	cs, err := c.ContainerList(ctx, true, f)
	errs = append(errs, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, x := range cs {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			if err := c.ContainerRemove(ctx, id, wire.RemoveOptions{Force: true, Volumes: true}); err != nil && !errors.Is(err, wire.ErrNotFound) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}(x.ID)
	}
	wg.Wait()
	ns, err := c.NetworkList(ctx, f)
	errs = append(errs, err)
	for _, x := range ns {
		if err := c.NetworkRemove(ctx, x.ID); err != nil && !errors.Is(err, wire.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	vs, err := c.VolumeList(ctx, f)
	errs = append(errs, err)
	for _, x := range vs {
		if err := c.VolumeRemove(ctx, x.Name, true); err != nil && !errors.Is(err, wire.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	is, err := c.ImageList(ctx, f)
	errs = append(errs, err)
	for _, x := range is {
		if err := c.ImageRemove(ctx, x.ID, true, false); err != nil && !errors.Is(err, wire.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
