package compose

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/network"
	"github.com/berth-go/berth/wait"
)

// Scope is where the stack's containers, networks and volumes are made: a
// *berth.Harness in a test (removed when the test ends) or a
// *berth.Session (removed by Close, or by Stack.Down).
type Scope interface {
	Container(image string) *berth.ContainerBuilder
	Build(dir string) *berth.BuildBuilder
	NetworkE(ctx context.Context, name string, opts ...berth.NetworkOption) (*network.Network, error)
}

// Stack is a running Compose project.
type Stack struct {
	name    string
	project *types.Project
	cfg     *config
	tb      interface {
		Helper()
		Fatalf(string, ...any)
	}

	mu       sync.Mutex
	services map[string]*berth.Container
	networks map[string]*network.Network
}

// Up runs the Compose file in the test's harness and returns when every
// service is ready (see UpE); an error fails the test at once, naming the
// service, its exit code and last log lines. Everything is removed when
// the test ends.
func Up(h *berth.Harness, file string, opts ...Option) *Stack {
	tb := h.T()
	tb.Helper()
	st, err := UpE(tb.Context(), h, file, opts...)
	if err != nil {
		tb.Fatalf("compose.Up(%q): %v", file, err)
	}
	st.tb = tb
	return st
}

// UpE runs the Compose file in scope: it creates the file's networks,
// builds the services that have build: (through berth's build cache),
// then starts every service as soon as what it depends_on has reached its
// condition (service_started, service_healthy,
// service_completed_successfully), independent services in parallel.
//
// UpE returns when every service is ready: started; healthy when it has a
// healthcheck (the file's or the image's); exited with code 0 when a
// service depends on it with service_completed_successfully; and past the
// waits given with WaitFor. On any failure it removes what it made and
// returns the error: a *ServiceError for a service that failed, or an
// error matching ErrFileNotFound, ErrInvalidFile, ErrUnknownService,
// ErrDependencyCycle or ErrUnsupported, before anything is made.
func UpE(ctx context.Context, scope Scope, file string, opts ...Option) (*Stack, error) {
	cfg := &config{}
	for _, o := range opts {
		o(cfg)
	}
	p, err := load(ctx, file, cfg)
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		if err := checkSupported(p, p.Services[name]); err != nil {
			return nil, fmt.Errorf("compose %s: %w", file, err)
		}
	}
	st := &Stack{name: projectName(p.Name), project: p, cfg: cfg,
		services: map[string]*berth.Container{}, networks: map[string]*network.Network{}}
	if err := st.up(ctx, scope); err != nil {
		st.Down(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("compose %s: %w", file, err)
	}
	return st, nil
}

// projectName makes the file's project name unique on the engine, so
// parallel tests can run the same file.
func projectName(base string) string {
	var b [4]byte
	rand.Read(b[:])
	return base + "-" + hex.EncodeToString(b[:])
}

// Name is the project name on the engine: `docker compose -p NAME ps`
// lists the stack's containers.
func (st *Stack) Name() string { return st.name }

// Services lists the services that run, sorted.
func (st *Stack) Services() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return slices.Sorted(maps.Keys(st.services))
}

// Service returns the container of a service, with everything h.Container
// gives (Endpoint, HostPort, Exec, Logs, Stop, ...). An unknown service
// fails the test (on a Session's stack it panics); ServiceE returns the
// error instead.
func (st *Stack) Service(name string) *berth.Container {
	c, err := st.ServiceE(name)
	if err != nil {
		if st.tb == nil {
			panic(err.Error())
		}
		st.tb.Helper()
		st.tb.Fatalf("%v", err)
	}
	return c
}

// ServiceE returns the container of a service, or an error matching
// ErrUnknownService.
func (st *Stack) ServiceE(name string) (*berth.Container, error) {
	st.mu.Lock()
	c := st.services[name]
	st.mu.Unlock()
	if c == nil {
		return nil, fmt.Errorf("compose stack %s: %w", st.name, unknownService(st.project, name))
	}
	return c, nil
}

// Network returns the stack's network that the file calls name
// ("default" for the implicit one), for Partition, Connect and the like.
func (st *Stack) Network(name string) (*network.Network, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	n, ok := st.networks[name]
	return n, ok
}

// Down removes the stack now: its containers (with their volumes), then
// its networks. The scope's cleanup does this anyway; Down is for a
// stack that must go earlier.
func (st *Stack) Down(ctx context.Context) error {
	st.mu.Lock()
	ctrs := slices.Collect(maps.Values(st.services))
	nets := slices.Collect(maps.Values(st.networks))
	st.services, st.networks = map[string]*berth.Container{}, map[string]*network.Network{}
	st.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(ctrs))
	for i, c := range ctrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Remove(ctx)
		}()
	}
	wg.Wait()
	for _, n := range nets {
		errs = append(errs, n.Remove(ctx))
	}
	return errors.Join(errs...)
}

// node tracks one service as it starts: each channel closes when the
// service reaches that point; done closes when its start has ended, in
// success or failure.
type node struct {
	started, healthy, completed chan struct{}
	done                        chan struct{}
}

// needs says which conditions other services wait for on each service.
func needs(p *types.Project) map[string]map[string]bool {
	n := map[string]map[string]bool{}
	for _, s := range p.Services {
		for dep, d := range s.DependsOn {
			if n[dep] == nil {
				n[dep] = map[string]bool{}
			}
			n[dep][d.Condition] = true
		}
	}
	return n
}

func (st *Stack) up(ctx context.Context, scope Scope) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := st.createNetworks(ctx, scope); err != nil {
		return err
	}
	nodes := map[string]*node{}
	for name := range st.project.Services {
		nodes[name] = &node{make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})}
	}
	wanted := needs(st.project)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		// A dependency's failure or the cancel it caused is not the
		// story; the failure that came first is.
		if first == nil || (errors.Is(first, ErrDependencyFailed) || errors.Is(first, context.Canceled)) && !errors.Is(err, ErrDependencyFailed) && !errors.Is(err, context.Canceled) {
			first = err
		}
		cancel()
	}
	for name, s := range st.project.Services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(nodes[name].done)
			if err := st.runService(ctx, scope, s, nodes, wanted[name]); err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return st.checkRunning(ctx)
}

func (st *Stack) createNetworks(ctx context.Context, scope Scope) error {
	used := map[string]bool{}
	for _, s := range st.project.Services {
		for n := range s.Networks {
			used[n] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(used)) {
		nc := st.project.Networks[name]
		labels := map[string]string{LabelProject: st.name, LabelNetwork: name}
		for k, v := range nc.Labels {
			labels[k] = v
		}
		n, err := scope.NetworkE(ctx, st.name+"_"+name, func(o *network.Options) {
			merged := map[string]string{}
			for k, v := range o.Labels {
				merged[k] = v
			}
			for k, v := range labels {
				merged[k] = v
			}
			o.Labels = merged
			o.Internal = nc.Internal
			if nc.Driver != "" {
				o.Driver = nc.Driver
			}
			if len(nc.DriverOpts) > 0 {
				o.Options = map[string]string(nc.DriverOpts)
			}
		})
		if err != nil {
			return fmt.Errorf("network %q: %w", name, err)
		}
		st.mu.Lock()
		st.networks[name] = n
		st.mu.Unlock()
	}
	return nil
}

// runService builds the service's image, waits for its dependencies,
// starts it and waits for what the stack needs of it.
func (st *Stack) runService(ctx context.Context, scope Scope, s types.ServiceConfig, nodes map[string]*node, wanted map[string]bool) error {
	me := nodes[s.Name]
	o := st.cfg.overrides[s.Name]
	image := s.Image
	switch {
	case o != nil && o.image != "":
		image = o.image
	case s.Build != nil:
		id, err := st.build(ctx, scope, s)
		if err != nil {
			return serviceError(s.Name, "build", err)
		}
		image = id
	}
	for _, dep := range slices.Sorted(maps.Keys(s.DependsOn)) {
		d := s.DependsOn[dep]
		n, ok := nodes[dep]
		if !ok {
			continue // optional and not enabled
		}
		reached := n.started
		switch d.Condition {
		case types.ServiceConditionHealthy:
			reached = n.healthy
		case types.ServiceConditionCompletedSuccessfully:
			reached = n.completed
		}
		select {
		case <-reached:
		case <-n.done:
			select {
			case <-reached:
			default: // it failed, or ended short of the condition
				return fmt.Errorf("service %q: %w: %q did not reach %s", s.Name, ErrDependencyFailed, dep, d.Condition)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	cb := scope.Container(image)
	st.configure(cb, s, st.networks, o)
	// Another service's failure cancels ctx; a create cut off mid-request
	// would leave a container whose ID nobody learnt. So the start runs to
	// its end (within ctx's deadline) and the stack removes what it made.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if d, ok := ctx.Deadline(); ok {
		sctx, cancel = context.WithDeadline(context.WithoutCancel(ctx), d)
	}
	c, err := cb.StartE(sctx)
	cancel()
	if err != nil {
		return serviceError(s.Name, "start", err)
	}
	st.mu.Lock()
	st.services[s.Name] = c
	st.mu.Unlock()
	close(me.started)

	// Healthy: the healthcheck passed (when there is one) and the test's
	// own waits are over.
	state, err := c.State(ctx)
	if err != nil {
		return serviceError(s.Name, "inspect", err)
	}
	var waits []wait.Strategy
	if state.HasHealthcheck || wanted[types.ServiceConditionHealthy] {
		waits = append(waits, wait.ForHealthy())
	}
	if o != nil {
		waits = append(waits, o.wait...)
	}
	for _, w := range waits {
		if err := w.Ready(ctx, c); err != nil {
			return st.failed(ctx, s.Name, "wait for "+w.String(), c, err)
		}
	}
	close(me.healthy)
	if wanted[types.ServiceConditionCompletedSuccessfully] {
		w := wait.ForExit()
		if err := w.Ready(ctx, c); err != nil {
			return st.failed(ctx, s.Name, "wait for "+w.String(), c, err)
		}
		close(me.completed)
	}
	return nil
}

// failed makes the error of a service that failed a wait, with its exit
// code and log tail when it has stopped (a wait.ExitError has them).
func (st *Stack) failed(ctx context.Context, name, step string, c *berth.Container, err error) error {
	se := serviceError(name, step, err)
	if se.ExitCode < 0 && ctx.Err() == nil {
		st.tail(ctx, se, c)
	}
	return se
}

// tail adds the exit code and log tail of a stopped container to se.
func (st *Stack) tail(ctx context.Context, se *ServiceError, c *berth.Container) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	s, err := c.State(ctx)
	if err != nil || s.Running || s.Status == "created" {
		return
	}
	se.ExitCode = s.ExitCode
	if lines, err := c.Tail(ctx, 20); err == nil {
		for _, l := range lines {
			se.LogTail = append(se.LogTail, l.Text)
		}
	}
}

// checkRunning fails the stack when a service with nothing to wait for
// has already stopped with a non-zero exit code: it crashed at start.
func (st *Stack) checkRunning(ctx context.Context) error {
	st.mu.Lock()
	names := slices.Sorted(maps.Keys(st.services))
	st.mu.Unlock()
	for _, name := range names {
		c := st.services[name]
		s, err := c.State(ctx)
		if err != nil {
			return serviceError(name, "inspect", err)
		}
		if !s.Running && s.Status != "created" && s.ExitCode != 0 {
			se := serviceError(name, "start", fmt.Errorf("the container stopped"))
			st.tail(ctx, se, c)
			return se
		}
	}
	return nil
}

// build builds the service's image with berth's build (cached by its
// inputs) and returns the image ID.
func (st *Stack) build(ctx context.Context, scope Scope, s types.ServiceConfig) (string, error) {
	b := s.Build
	bb := scope.Build(b.Context)
	switch {
	case b.DockerfileInline != "":
		bb.DockerfileContent(b.DockerfileInline)
	case b.Dockerfile != "":
		bb.Dockerfile(b.Dockerfile)
	}
	for _, k := range slices.Sorted(maps.Keys(b.Args)) {
		if v := b.Args[k]; v != nil {
			bb.Arg(k, *v)
		}
	}
	if b.Target != "" {
		bb.Target(b.Target)
	}
	for k, v := range b.Labels {
		bb.Label(k, v)
	}
	for name, dir := range b.AdditionalContexts {
		bb.BuildContext(name, dir)
	}
	for host, ips := range b.ExtraHosts {
		for _, ip := range ips {
			bb.ExtraHost(host, ip)
		}
	}
	if b.NoCache {
		bb.NoCache()
	}
	if b.Pull {
		bb.Pull()
	}
	if b.Network != "" {
		bb.Network(b.Network)
	}
	if b.ShmSize > 0 {
		bb.ShmSize(int64(b.ShmSize))
	}
	if len(b.Platforms) == 1 {
		bb.Platform(b.Platforms[0])
	} else if s.Platform != "" {
		bb.Platform(s.Platform)
	}
	return bb.ImageE(ctx)
}

// Format prints String for every verb: the stack holds the services'
// environment (passwords in a Compose file are common), which %+v or %#v
// must not reach.
func (st *Stack) Format(f fmt.State, verb rune) {
	s := st.String()
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = io.WriteString(f, s)
}

// String names the stack and its services.
func (st *Stack) String() string {
	names := st.Services()
	return fmt.Sprintf("compose stack %s (%s)", st.name, strings.Join(names, ", "))
}
