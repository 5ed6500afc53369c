package berth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/flock"
	"github.com/berth-go/berth/network"
)

// runExpiry bounds how long a run-shared container can outlive its run
// when nothing on its host is left to see the run end.
const runExpiry = 24 * time.Hour

// envShared, set to "binary", makes Shared containers per test binary even
// under `go test` (to debug one package alone, or to keep packages apart).
const envShared = "BERTH_SHARED"

// Shared is a scope whose containers are shared by every test binary of
// one `go test` run: `go test ./...` runs one binary per package, all
// children of one `go` process. The first binary that asks for a container
// starts it, the others (and later tests of the same binary) join it, and a
// reaper process removes it when the `go` command exits, however it exits.
// Two asks share a container when their specs are equal (image, command,
// environment, files, warm keys, ...); any change of input makes another
// one.
//
// Outside `go test` (a test binary run by hand, through -exec, from an
// IDE) there is no run to share: a Shared container is then shared by the
// tests of the binary only and removed with the binary's session, never
// kept. BERTH_SHARED=binary asks for that under `go test` too.
//
// Modules take it as their scope:
//
//	pg := postgres.New(h.Shared()).Start()
//
// A test must not stop, remove or otherwise change a shared container
// that others use; postgres.Container.Clone and redis.Container.DB give
// each test a private database on it.
type Shared struct {
	s *scope
}

var _ Scope = (*Shared)(nil)

// Shared returns the run-shared scope of the test (or session).
func (s *scope) Shared() *Shared { return &Shared{s: s} }

// Container starts describing a container shared by the run. It is never
// removed at the test's end.
func (r *Shared) Container(image string) *ContainerBuilder {
	b := r.s.Container(image)
	b.shared = true
	return b
}

// T is the test the scope belongs to (nil for a session's).
func (r *Shared) T() testing.TB { return r.s.tb }

// sharedEntry is one shared container of this process: started once,
// handed to every test that asks for the same spec.
type sharedEntry struct {
	done chan struct{}
	ctr  *container.Container
	warm *container.WarmResult
	err  error
}

var (
	sharedMu      sync.Mutex
	sharedByInput = map[string]*sharedEntry{}
)

// startShared returns the run-shared (or binary-shared) container of the
// builder's spec, starting it the first time.
func (b *ContainerBuilder) startShared(ctx context.Context) (*Container, error) {
	spec := b.spec
	if spec.Name != "" || spec.Reuse {
		return nil, &container.SpecError{Field: "Name", Value: spec.Name, Hint: "a shared container is named by berth: leave Name and Reuse out"}
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	hash, err := container.SpecHash(spec)
	if err != nil {
		return nil, err
	}
	if b.warm != nil && WarmEnabled() {
		hash = inputHash(hash, "warm", fmt.Sprint(b.warm.Keys))
	}
	r, inRun := currentRun()
	key := "binary/" + hash
	if inRun {
		key = "run/" + r.key + "/" + hash
	}
	for {
		sharedMu.Lock()
		e, ok := sharedByInput[key]
		if !ok {
			e = &sharedEntry{done: make(chan struct{})}
			sharedByInput[key] = e
		}
		sharedMu.Unlock()
		if !ok {
			if inRun {
				e.ctr, e.warm, e.err = b.startForRun(ctx, r, hash)
			} else {
				e.ctr, e.warm, e.err = b.startForBinary(ctx)
			}
			if e.err != nil {
				// Not kept: the next test tries again.
				sharedMu.Lock()
				delete(sharedByInput, key)
				sharedMu.Unlock()
			}
			close(e.done)
		}
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
		if e.err != nil {
			if ok {
				continue // the starter failed; this test tries itself
			}
			return nil, e.err
		}
		return &Container{Container: e.ctr, tb: b.s.tb, warm: e.warm}, nil
	}
}

func inputHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// startForBinary starts the container in the binary's session: it goes
// when the session closes or the binary dies (the watchdog).
func (b *ContainerBuilder) startForBinary(ctx context.Context) (*container.Container, *container.WarmResult, error) {
	sess := b.s.session.scope
	opts := sess.runOptions()
	if b.keychain != nil {
		opts.Keychain = b.keychain
	}
	if b.warm != nil && WarmEnabled() {
		ctr, res, err := container.RunWarm(ctx, sess.client(), b.spec, opts, *b.warm)
		if err != nil {
			return nil, nil, err
		}
		sess.attachHandle(ctr)
		return ctr, &res, nil
	}
	ctr, err := container.Run(ctx, sess.client(), b.spec, opts)
	if err != nil {
		return nil, nil, err
	}
	sess.attachHandle(ctr)
	return ctr, nil, nil
}

// startForRun starts or joins the run's container for the spec. Binaries
// of the run take a lock file first, so one starts it while the others
// wait and then join; the engine's name uniqueness and Reuse's join rules
// back that up.
func (b *ContainerBuilder) startForRun(ctx context.Context, r run, hash string) (*container.Container, *container.WarmResult, error) {
	if err := ensureReaper(b.s.session, r); err != nil {
		return nil, nil, fmt.Errorf("run-shared container: start the run's reaper: %w", err)
	}
	name := "berth-run-" + r.key[:12] + "-" + hash[:12]
	unlock, err := flock.Lock(ctx, filepath.Join(os.TempDir(), "berth-run-"+r.key[:16]+"-"+hash[:16]+".lock"), "another test binary of the run is starting the container")
	if err != nil {
		return nil, nil, fmt.Errorf("run-shared container %s: %w", name, err)
	}
	defer unlock()
	if !r.alive() {
		return nil, nil, fmt.Errorf("run-shared container %s: the `go` command (pid %d) of this run has ended", name, r.pid)
	}
	c := b.s.client()
	opts := container.RunOptions{Keychain: b.s.session.keychain, Host: hostOverride()}
	if b.keychain != nil {
		opts.Keychain = b.keychain
	}
	spec := b.spec
	var res *container.WarmResult
	if b.warm != nil && WarmEnabled() {
		// Reuse joins by name but knows no warm start: make sure the
		// cache image exists, then share a container of it.
		whash, _, err := container.WarmHash(ctx, c, spec, b.warm.Keys)
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			return nil, nil, err
		}
		ref := container.CacheRef(spec.Image, whash)
		res = &container.WarmResult{Hash: whash, Image: ref, Hit: true}
		img, ierr := c.Image(ctx, ref)
		if err != nil || ierr != nil || img.Labels[engine.LabelCache] != whash {
			// Fill it: the container RunWarm leaves running is
			// removed; the shared one is made from the image below.
			fillOpts := opts
			fillOpts.Labels = r.labels()
			ctr, wres, err := container.RunWarm(ctx, c, spec, fillOpts, *b.warm)
			if err != nil {
				return nil, nil, err
			}
			ctr.Remove(context.WithoutCancel(ctx))
			res = &wres
		}
		spec.Image, spec.Files, spec.Pull = res.Image, nil, container.PullNever
	}
	spec.Labels = make(map[string]string, len(b.spec.Labels)+8)
	for k, v := range b.spec.Labels {
		spec.Labels[k] = v
	}
	for k, v := range r.labels() {
		spec.Labels[k] = v
	}
	spec.Name, spec.Reuse = name, true
	ctr, err := container.Run(ctx, c, spec, opts)
	if err != nil {
		return nil, nil, err
	}
	return ctr, res, nil
}

// sharedNets are the shared networks of this process, by run (or binary)
// and input.
var (
	sharedNetMu sync.Mutex
	sharedNets  = map[string]*network.Network{}
)

// Network returns the network name shared by the run's test binaries (by
// the tests of this binary outside `go test`), making it the first time:
// shared containers on it (Container(...).Network(net, "alias")) reach
// each other, and a test's own containers joining it reach them, by
// alias. It goes with the run's shared containers. A test must not remove
// or partition it. The test fails if it cannot be made.
func (r *Shared) Network(name string, opts ...NetworkOption) *network.Network {
	tb := r.s.tb
	tb.Helper()
	n, err := r.NetworkE(tb.Context(), name, opts...)
	if err != nil {
		tb.Fatalf("berth: Shared().Network(%q): %v", name, err)
	}
	return n
}

// NetworkE is Network returning its error.
func (r *Shared) NetworkE(ctx context.Context, name string, opts ...NetworkOption) (*network.Network, error) {
	o := network.Options{}
	for _, f := range opts {
		f(&o)
	}
	hash := inputHash(name, o.Driver, fmt.Sprint(o.Internal, o.IPv6, o.Options))
	run, inRun := currentRun()
	key := "binary/" + hash
	if inRun {
		key = "run/" + run.key + "/" + hash
	}
	sharedNetMu.Lock()
	defer sharedNetMu.Unlock()
	if n := sharedNets[key]; n != nil {
		return n, nil
	}
	var n *network.Network
	var err error
	if inRun {
		n, err = r.networkForRun(ctx, run, name, hash, o)
	} else {
		n, err = r.s.session.scope.NetworkE(ctx, name, opts...)
	}
	if err != nil {
		return nil, err
	}
	sharedNets[key] = n
	return n, nil
}

// networkForRun makes or joins the run's network, under the run's lock
// for it.
func (r *Shared) networkForRun(ctx context.Context, run run, name, hash string, o network.Options) (*network.Network, error) {
	if err := ensureReaper(r.s.session, run); err != nil {
		return nil, fmt.Errorf("run-shared network: start the run's reaper: %w", err)
	}
	o.Name = "berth-run-" + run.key[:12] + "-" + name + "-" + hash[:8]
	unlock, err := flock.Lock(ctx, filepath.Join(os.TempDir(), "berth-run-"+run.key[:16]+"-net-"+hash[:16]+".lock"), "another test binary of the run is making the network")
	if err != nil {
		return nil, fmt.Errorf("run-shared network %s: %w", o.Name, err)
	}
	defer unlock()
	if !run.alive() {
		return nil, fmt.Errorf("run-shared network %s: the `go` command (pid %d) of this run has ended", o.Name, run.pid)
	}
	c := r.s.client()
	if n, err := network.Get(ctx, c, o.Name); err == nil {
		return n, nil
	} else if !errors.Is(err, engine.ErrNotFound) {
		return nil, err
	}
	o.Labels = run.labels()
	return network.Create(ctx, c, o)
}
