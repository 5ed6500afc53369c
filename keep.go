package berth

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/berth-go/berth/engine"
)

// keepFailed reports BERTH_KEEP_FAILED=1: a failed test's containers,
// networks and volumes stay for a post-mortem.
func keepFailed() bool { return os.Getenv("BERTH_KEEP_FAILED") == "1" }

// keep leaves the scope's resources on the engine, tells the watchdog and
// the session to leave them too, and returns how to reach them. They keep
// their session labels and lease: `berth prune` removes them once the
// process has ended, and any session once the lease has.
func (s *scope) keep() string {
	s.stopFollowing(0) // the containers stay: their consumers must not outlive the test
	s.mu.Lock()
	res := s.resources
	s.resources = nil
	s.mu.Unlock()
	var b strings.Builder
	b.WriteString("berth: BERTH_KEEP_FAILED=1: kept for a post-mortem (remove with `berth prune --session " + s.session.id + "` once this process has ended):")
	for _, r := range res {
		s.session.keepID(r.id)
		switch r.kind {
		case engine.KindContainer:
			fmt.Fprintf(&b, "\n  container %.12s: docker exec -it %.12s sh; docker logs %.12s", r.id, r.id, r.id)
		default:
			fmt.Fprintf(&b, "\n  %s %s", r.kind, r.id)
		}
	}
	return b.String()
}

// keepID marks a resource the session's sweeps and its watchdog leave.
func (s *Session) keepID(id string) {
	s.keptMu.Lock()
	if s.kept == nil {
		s.kept = map[string]bool{}
	}
	s.kept[id] = true
	s.keptMu.Unlock()
	s.watchdog.note("keep", id, true)
}

// unkept drops the kept resources from rs.
func (s *Session) unkept(rs []engine.Resource) []engine.Resource {
	s.keptMu.Lock()
	defer s.keptMu.Unlock()
	out := rs[:0:0]
	for _, r := range rs {
		if !s.kept[r.ID] && !s.kept[r.Name] {
			out = append(out, r)
		}
	}
	return out
}

// sweep removes what is left of the session on the engine but for what
// it keeps.
func (s *Session) sweep(ctx context.Context) error {
	rs, err := s.client.List(ctx, engine.Labelled(engine.SessionSelector(s.id)))
	if err != nil {
		return err
	}
	return s.client.RemoveAll(ctx, s.unkept(rs))
}
