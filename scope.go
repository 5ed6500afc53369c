package berth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/network"
)

// cleanupTimeout bounds the removal of one scope's resources.
const cleanupTimeout = 60 * time.Second

// resource is something a scope removes at its end.
type resource struct {
	kind engine.Kind
	id   string
	ctr  *container.Container
	net  *network.Network
	// beforeRemove runs at cleanup before the resource is removed
	// (OnRemove hooks).
	beforeRemove []func(ctx context.Context)
}

// scope owns resources: the resources of one test (Harness) or of a
// session.
type scope struct {
	session *Session
	tb      testing.TB // nil for a session
	labels  map[string]string

	gate gate

	mu        sync.Mutex
	resources []resource
	uniq      string

	// log consumers (LogTo): they end with their containers
	followCtx  context.Context
	followStop context.CancelFunc
	followers  sync.WaitGroup

	// ends run after the resources are removed (relays of HostAccess).
	ends []func()
}

func newScope(s *Session, tb testing.TB, labels map[string]string) *scope {
	what := "session"
	if tb != nil {
		what = "test " + tb.Name()
	}
	return &scope{session: s, tb: tb, labels: labels, gate: gate{what: what}}
}

func (s *scope) client() *engine.Client { return s.session.client }

func (s *scope) add(r resource) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, have := range s.resources {
		if have.kind == r.kind && have.id == r.id {
			return
		}
	}
	s.resources = append(s.resources, r)
	if r.kind == engine.KindImage {
		// A tag carries no labels of ours: the watchdog must be told.
		s.session.watchdog.note("image", r.id, true)
	}
}

func (s *scope) runOptions() container.RunOptions {
	return container.RunOptions{
		Labels: s.labels,
		Created: func(kind engine.Kind, id string) {
			s.add(resource{kind: kind, id: id})
		},
		Keychain: s.session.keychain,
		Host:     hostOverride(),
	}
}

// attachHandle records the handle of a created container so diagnostics
// can use it.
func (s *scope) attachHandle(c *container.Container) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.resources {
		if r.kind == engine.KindContainer && r.id == c.ID() {
			s.resources[i].ctr = c
		}
	}
}

// uniqueName makes an engine-wide unique name from a user's short name.
func (s *scope) uniqueName(name string) string {
	s.mu.Lock()
	if s.uniq == "" {
		s.uniq = randomTag()
	}
	u := s.uniq
	s.mu.Unlock()
	return "berth-" + name + "-" + u
}

// cleanup removes the scope's resources: containers in parallel, then
// networks (disconnecting partitioned containers first), volumes and
// images.
func (s *scope) cleanup(ctx context.Context) error {
	s.mu.Lock()
	res := s.resources
	s.resources = nil
	s.mu.Unlock()
	for _, r := range res {
		for _, f := range r.beforeRemove {
			f(ctx)
		}
	}
	nets := map[string]*network.Network{}
	rs := make([]engine.Resource, len(res))
	for i, r := range res {
		rs[i] = engine.Resource{Kind: r.kind, ID: r.id}
		if r.net != nil {
			nets[r.id] = r.net
		}
	}
	c := s.client()
	err := engine.RemoveAll(ctx, rs, func(ctx context.Context, r engine.Resource) error {
		if n := nets[r.ID]; n != nil {
			if err := n.Remove(ctx); err != nil && !errors.Is(err, engine.ErrNotFound) {
				return fmt.Errorf("remove network %.12s: %w", r.ID, err)
			}
			return nil
		}
		err := c.Remove(ctx, r)
		if err == nil && r.Kind == engine.KindImage {
			s.session.watchdog.note("image", r.ID, false)
		}
		return err
	})
	s.stopFollowing(followStop) // the consumers see their containers end
	s.mu.Lock()
	ends := s.ends
	s.ends = nil
	s.mu.Unlock()
	for _, f := range ends {
		f()
	}
	return err
}

// atEnd runs f at the end of the scope's cleanup, after its resources are
// removed.
func (s *scope) atEnd(f func()) {
	s.mu.Lock()
	s.ends = append(s.ends, f)
	s.mu.Unlock()
}

// diagnose writes, for each container of the scope, its image, state, exit
// code, OOM flag and last log lines. It is a helper of tb, so the lines
// point at the test's line that created the harness, not at this file.
func (s *scope) diagnose(ctx context.Context, tb interface {
	Helper()
	Logf(string, ...any)
}) {
	tb.Helper()
	logf := tb.Logf
	s.mu.Lock()
	res := append([]resource(nil), s.resources...)
	s.mu.Unlock()
	for _, r := range res {
		if r.kind != engine.KindContainer {
			continue
		}
		ctr := r.ctr
		if ctr == nil {
			var err error
			if ctr, err = container.Attach(ctx, s.client(), r.id); err != nil {
				if !errors.Is(err, engine.ErrNotFound) { // removed by a failed start
					logf("berth: container %.12s: %v", r.id, err)
				}
				continue
			}
		}
		d, err := ctr.Inspect(ctx)
		if err != nil {
			if !errors.Is(err, engine.ErrNotFound) {
				logf("berth: container %s: inspect: %v", ctr, err)
			}
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "berth: container %s name=%s image=%s state=%s exit=%d oomkilled=%v", ctr, d.Name, d.Image, d.State.Status, d.State.ExitCode, d.State.OOMKilled)
		if d.State.Health != "" {
			fmt.Fprintf(&b, " health=%s", d.State.Health)
		}
		if d.State.Error != "" {
			fmt.Fprintf(&b, " error=%q", d.State.Error)
		}
		lines, err := ctr.Tail(ctx, 50)
		if err != nil {
			fmt.Fprintf(&b, "\n  (logs: %v)", err)
		}
		if len(lines) > 0 {
			fmt.Fprintf(&b, "\n  last %d log lines:", len(lines))
		}
		for _, l := range lines {
			fmt.Fprintf(&b, "\n  %s | %s", l.Stream, l.Text)
		}
		logf("%s", b.String())
	}
}

// hostOverride is BERTH_HOST: where mapped ports are reachable when the
// engine's own address is not (NAT, tunnels).
func hostOverride() string { return os.Getenv("BERTH_HOST") }

// randomTag is 8 random hex digits: the scope's part of the names it
// gives what it makes.
func randomTag() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
