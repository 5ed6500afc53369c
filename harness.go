// Package berth gives Go tests real, throw-away containers: databases,
// caches, services built from a Dockerfile, images from private registries.
// It waits until they are truly ready and removes every one of them
// afterwards, even when the test binary is killed.
//
//	func TestOrders(t *testing.T) {
//		h := berth.New(t)
//		c := h.Container("busybox:1.36").
//			Cmd("httpd", "-f", "-p", "8080").
//			Port("8080/tcp").
//			WaitFor(wait.ForListeningPort("8080/tcp")).
//			Start()
//		url := c.Endpoint(t.Context(), "8080/tcp") // http://127.0.0.1:49153
//		...
//	}
//
// One engine connection and one session serve a whole test binary. Every
// resource carries the labels berth.session, berth.test and berth.pid; a
// watchdog process removes the session's resources when the binary dies,
// and `berth prune` removes leftovers by hand.
package berth

import (
	"context"
	"testing"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/network"
)

// Harness gives one test its containers, networks and images and removes
// them when the test ends.
type Harness struct {
	*scope
}

// New returns the harness of test t. The engine comes from the environment
// (DOCKER_HOST, DOCKER_CONTEXT, config.json, else the first local engine
// socket that answers: the order is in engine.New's doc); options apply
// to the shared session when New creates it (the first call in a binary).
// An unreachable engine fails the test.
func New(t testing.TB, opts ...Option) *Harness {
	t.Helper()
	s, err := sharedSession(opts)
	if err != nil {
		if why := skipWithoutEngine(opts, err); why != "" {
			t.Skip(why)
		}
		t.Fatalf("%v", err)
	}
	labels := map[string]string{}
	for k, v := range s.labels {
		labels[k] = v
	}
	labels[engine.LabelTest] = t.Name()
	h := &Harness{scope: newScope(s, t, labels)}
	t.Cleanup(func() {
		t.Helper() // report at the test's berth.New line
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		h.gate.close(ctx) // what the test left running (goroutines) ends first
		if t.Failed() {
			h.diagnose(ctx, t)
			if keepFailed() {
				t.Log(h.keep())
				return
			}
		}
		if err := h.cleanup(ctx); err != nil {
			t.Logf("berth: cleanup: %v", err)
		}
	})
	return h
}

// Scope is where a module makes its container: a *Harness in a test (the
// container is removed when the test ends) or a *Session (removed at
// Close). T is the test, nil for a session.
type Scope interface {
	Container(image string) *ContainerBuilder
	T() testing.TB
}

var (
	_ Scope = (*Harness)(nil)
	_ Scope = (*Session)(nil)
)

// T is the test the harness belongs to.
func (h *Harness) T() testing.TB { return h.tb }

// Session is the shared session of the test binary.
func (h *Harness) Session() *Session { return h.session }

// Engine is the engine client, for what the handles do not cover: listing
// images, inspecting networks, the resources a test left. Its errors, like
// every berth error from the engine, match engine.ErrNotFound,
// engine.ErrConflict and the other sentinels of package engine.
func (h *Harness) Engine() *engine.Client { return h.session.client }

// Network creates a user-defined bridge network removed when the test
// ends. name is made unique per test; containers join it with
// .Network(net, aliases...) and resolve each other by alias.
func (h *Harness) Network(name string, opts ...NetworkOption) *network.Network {
	h.tb.Helper()
	n, err := h.NetworkE(h.tb.Context(), name, opts...)
	if err != nil {
		h.tb.Fatalf("berth: Network(%q): %v", name, err)
	}
	return n
}

// NetworkOption shapes a network made by Network or NetworkE.
type NetworkOption func(*network.Options)

// Internal makes a network with no route outside.
func Internal() NetworkOption { return func(o *network.Options) { o.Internal = true } }

// DriverOption sets a driver option of the network.
func DriverOption(key, value string) NetworkOption {
	return func(o *network.Options) {
		setEntry(&o.Options, key, value)
	}
}

// NetworkE creates a network owned by the scope and returns errors.
func (s *scope) NetworkE(ctx context.Context, name string, opts ...NetworkOption) (*network.Network, error) {
	done, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	o := network.Options{Name: s.uniqueName(name), Labels: s.labels}
	for _, f := range opts {
		f(&o)
	}
	n, err := network.Create(ctx, s.client(), o)
	if err != nil {
		return nil, err
	}
	s.add(resource{kind: engine.KindNetwork, id: n.ID(), net: n})
	return n, nil
}
