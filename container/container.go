package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/wait"
)

// Container is a handle on a container made by Run or Create. It satisfies
// wait.Target. Methods are safe for concurrent use.
type Container struct {
	client  *wire.Client
	id      string
	name    string
	image   string
	tty     bool
	host    string
	ports   []PortSpec
	volumes []string
	stop    time.Duration
	// autoPorts: berth picked the host ports of random publications.
	autoPorts bool
	// stdinOnce as created: Podman's inspect always says false.
	stdinOnce bool
	// entrypoint and cmd as the spec gave them (nil: the image's), for
	// messages about a command that cannot run.
	entrypoint, cmd []string

	hooks Hooks // of the start (RunOptions.Hooks)

	mu       sync.Mutex
	bindings map[string]int // "5432/tcp" → host port, after start
}

func newContainer(c *wire.Client, id string, spec Spec, opts RunOptions) *Container {
	ctr := &Container{client: c, id: id, name: spec.Name, image: spec.Image, tty: spec.Tty, stdinOnce: spec.StdinOnce, host: opts.Host, stop: spec.StopTimeout,
		entrypoint: spec.Entrypoint, cmd: spec.Cmd, hooks: opts.Hooks}
	for _, p := range spec.Ports {
		if ps, err := ParsePort(p); err == nil {
			ctr.ports = append(ctr.ports, ps)
		}
	}
	return ctr
}

// Attach returns a handle on an existing container.
func Attach(ctx context.Context, ec *engine.Client, id string) (*Container, error) {
	c := wireOf(ec)
	info, err := c.ContainerInspect(ctx, id)
	if err != nil {
		return nil, err
	}
	ctr := &Container{client: c, id: info.ID, name: strings.TrimPrefix(info.Name, "/")}
	if info.Config != nil {
		ctr.image, ctr.tty = info.Config.Image, info.Config.Tty
	}
	return ctr, nil
}

// ID is the container's full ID.
func (c *Container) ID() string { return c.id }

// Image is the image reference the container was made from.
func (c *Container) Image() string { return c.image }

// Client is the engine client the container lives on.
func (c *Container) Client() *engine.Client { return engineOf(c.client) }

// String names the container for messages.
func (c *Container) String() string {
	id := c.id
	if len(id) > 12 {
		id = id[:12]
	}
	return ShortImage(c.image) + " (" + id + ")"
}

// Name returns the container's name as the engine knows it.
func (c *Container) Name(ctx context.Context) (string, error) {
	c.mu.Lock()
	n := c.name
	c.mu.Unlock()
	if n != "" {
		return n, nil
	}
	info, err := c.client.ContainerInspect(ctx, c.id)
	if err != nil {
		return "", err
	}
	n = strings.TrimPrefix(info.Name, "/")
	c.mu.Lock()
	c.name = n
	c.mu.Unlock()
	return n, nil
}

// Host is where mapped ports are reachable: BERTH_HOST or the option given
// to Run, else the engine's PortHost: 127.0.0.1 for a local socket engine
// (the host's side of the bridge when this process runs in a container
// with the host's socket mounted), else the engine's host.
func (c *Container) Host(ctx context.Context) (string, error) {
	if c.host != "" {
		return c.host, nil
	}
	return c.client.PortHost(ctx), nil
}

// MappedPort returns the host port bound to a container port ("5432/tcp";
// "5432" means tcp). It waits, within ctx, until the engine reports the
// binding.
func (c *Container) MappedPort(ctx context.Context, port string) (int, error) {
	key, err := NormalizePort(port)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	hp, ok := c.bindings[key]
	c.mu.Unlock()
	if ok {
		return hp, nil
	}
	published := false
	for _, p := range c.ports {
		if p.Key() == key {
			published = true
		}
	}
	b := backoff.WithContext(&backoff.ExponentialBackOff{
		InitialInterval: 5 * time.Millisecond, RandomizationFactor: 0.2, Multiplier: 2,
		MaxInterval: 200 * time.Millisecond, Clock: backoff.SystemClock,
	}, ctx)
	var result int
	err = backoff.Retry(func() error {
		info, err := c.client.ContainerInspect(ctx, c.id)
		if err != nil {
			return backoff.Permanent(err)
		}
		if info.NetworkSettings != nil {
			for _, pb := range info.NetworkSettings.Ports[key] {
				if n, err := strconv.Atoi(pb.HostPort); err == nil && n > 0 {
					result = n
					return nil
				}
			}
		}
		if !published && (info.HostConfig == nil || len(info.HostConfig.PortBindings[key]) == 0) {
			return backoff.Permanent(fmt.Errorf("%w (%w)", &SpecError{Field: "MappedPort", Value: port, Hint: "this port is not published: add it with Port(\"" + key + "\")"}, wait.ErrPortNotPublished))
		}
		if info.State != nil && !info.State.Running {
			return backoff.Permanent(fmt.Errorf("port %s: container is %s (exit code %d), so no host port is bound", key, info.State.Status, info.State.ExitCode))
		}
		return errors.New("not bound yet")
	}, b)
	if err != nil {
		if ctx.Err() != nil {
			return 0, fmt.Errorf("mapped port %s of %s: engine reported no binding before %w", key, c, context.Cause(ctx))
		}
		return 0, err
	}
	c.mu.Lock()
	if c.bindings == nil {
		c.bindings = map[string]int{}
	}
	c.bindings[key] = result
	c.mu.Unlock()
	return result, nil
}

// Endpoint returns "scheme://host:port" for a container port; scheme ""
// returns "host:port".
func (c *Container) Endpoint(ctx context.Context, port, scheme string) (string, error) {
	host, err := c.Host(ctx)
	if err != nil {
		return "", err
	}
	p, err := c.MappedPort(ctx, port)
	if err != nil {
		return "", err
	}
	hp := net.JoinHostPort(host, strconv.Itoa(p))
	if scheme == "" {
		return hp, nil
	}
	return scheme + "://" + hp, nil
}

func (c *Container) forgetBindings() {
	c.mu.Lock()
	c.bindings = nil
	c.mu.Unlock()
}

// Details is the part of inspect data tests use.
type Details struct {
	ID           string
	Name         string
	Image        string
	Created      string
	State        wait.State
	StartedAt    string
	FinishedAt   string
	RestartCount int
	Env          []string
	Labels       map[string]string
	Cmd          []string
	Ports        map[string][]string // "5432/tcp" → ["0.0.0.0:49153"]
	Networks     map[string]NetworkInfo
	Mounts       []string // "type:source→destination"
	Pid          int
}

// NetworkInfo is the container's membership in one network.
type NetworkInfo struct {
	NetworkID string
	IPAddress string
	Gateway   string
	Aliases   []string
}

// Inspect returns the container's current configuration and state.
func (c *Container) Inspect(ctx context.Context) (*Details, error) {
	info, err := c.client.ContainerInspect(ctx, c.id)
	if err != nil {
		return nil, err
	}
	d := &Details{ID: info.ID, Name: strings.TrimPrefix(info.Name, "/"), Created: info.Created, RestartCount: info.RestartCount,
		Ports: map[string][]string{}, Networks: map[string]NetworkInfo{}}
	d.State = stateOf(info)
	if info.State != nil {
		d.StartedAt, d.FinishedAt, d.Pid = info.State.StartedAt, info.State.FinishedAt, info.State.Pid
	}
	if info.Config != nil {
		d.Image, d.Env, d.Labels, d.Cmd = info.Config.Image, info.Config.Env, info.Config.Labels, info.Config.Cmd
	}
	if ns := info.NetworkSettings; ns != nil {
		for k, bs := range ns.Ports {
			for _, b := range bs {
				d.Ports[k] = append(d.Ports[k], net.JoinHostPort(b.HostIP, b.HostPort))
			}
		}
		for name, ep := range ns.Networks {
			if ep == nil {
				continue
			}
			d.Networks[name] = NetworkInfo{NetworkID: ep.NetworkID, IPAddress: ep.IPAddress, Gateway: ep.Gateway, Aliases: ep.Aliases}
		}
	}
	listed := map[string]bool{}
	for _, m := range info.Mounts {
		src := m.Source
		if m.Type == "volume" {
			src = m.Name
		}
		d.Mounts = append(d.Mounts, m.Type+":"+src+"→"+m.Destination)
		listed[m.Destination] = true
	}
	// Podman lists tmpfs mounts only in HostConfig.Tmpfs; dockerd lists
	// those of HostConfig.Mounts in Mounts too.
	if hc := info.HostConfig; hc != nil {
		var tmpfs []string
		for _, m := range hc.Mounts {
			if m.Type == "tmpfs" {
				tmpfs = append(tmpfs, m.Target)
			}
		}
		for target := range hc.Tmpfs {
			tmpfs = append(tmpfs, target)
		}
		sort.Strings(tmpfs)
		for _, target := range tmpfs {
			if !listed[target] {
				d.Mounts = append(d.Mounts, "tmpfs:→"+target)
				listed[target] = true
			}
		}
	}
	return d, nil
}

func stateOf(info *wire.ContainerJSON) wait.State {
	var s wait.State
	if st := info.State; st != nil {
		s = wait.State{Status: st.Status, Running: st.Running && !st.Paused, ExitCode: st.ExitCode, OOMKilled: st.OOMKilled, Error: st.Error}
		if st.Health != nil {
			s.Health = st.Health.Status
		}
	}
	if info.Config != nil && info.Config.Healthcheck != nil && len(info.Config.Healthcheck.Test) > 0 && info.Config.Healthcheck.Test[0] != "NONE" {
		s.HasHealthcheck = true
	}
	if s.Health != "" {
		s.HasHealthcheck = true
	}
	return s
}

// Healthcheck returns the container's HEALTHCHECK (the image's, or the one
// given at create) and whether the engine runs it. Podman schedules
// HEALTHCHECKs with systemd timers, so where there is no systemd none ever
// runs: wait.ForHealthy then runs the check itself through Exec.
func (c *Container) Healthcheck(ctx context.Context) (wait.Healthcheck, error) {
	info, err := c.client.ContainerInspect(ctx, c.id)
	if err != nil {
		return wait.Healthcheck{}, err
	}
	hc := wait.Healthcheck{ByEngine: !c.client.IsPodman(ctx)}
	if cfg := info.Config; cfg != nil && cfg.Healthcheck != nil {
		h := cfg.Healthcheck
		hc.Test = h.Test
		hc.Interval, hc.Timeout, hc.StartPeriod = time.Duration(h.Interval), time.Duration(h.Timeout), time.Duration(h.StartPeriod)
		hc.Retries = h.Retries
	}
	if info.State != nil {
		if t, err := time.Parse(time.RFC3339Nano, info.State.StartedAt); err == nil && t.Year() > 1 {
			hc.StartedAt = t
		}
	}
	return hc, nil
}

// State inspects the container's state.
func (c *Container) State(ctx context.Context) (wait.State, error) {
	info, err := c.client.ContainerInspect(ctx, c.id)
	if err != nil {
		return wait.State{}, err
	}
	return stateOf(info), nil
}

// WaitExit blocks until the container is not running and returns its final
// state.
func (c *Container) WaitExit(ctx context.Context) (wait.State, error) {
	if _, err := c.client.ContainerWait(ctx, c.id, "not-running"); err != nil {
		return wait.State{}, err
	}
	return c.State(ctx)
}

// Wait blocks until the container meets condition: "not-running" (or ""),
// "next-exit" or "removed", and returns the exit code.
func (c *Container) Wait(ctx context.Context, condition string) (int, error) {
	ch, err := c.WaitChan(ctx, condition)
	if err != nil {
		return 0, err
	}
	r := <-ch
	return r.ExitCode, r.Err
}

// HealthEvents streams health_status events of the container until ctx
// ends.
func (c *Container) HealthEvents(ctx context.Context) (<-chan string, error) {
	evs, errc := c.client.Events(ctx, wire.Filters{"type": {"container"}, "container": {c.id}, "event": {"health_status"}})
	select {
	case err := <-errc:
		if err != nil {
			return nil, err
		}
	default:
	}
	out := make(chan string, 4)
	go func() {
		defer close(out)
		for ev := range evs {
			status := strings.TrimSpace(strings.TrimPrefix(ev.Action, "health_status:"))
			select {
			case out <- status:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// Start starts a stopped container; a running one is left as it is.
func (c *Container) Start(ctx context.Context) error {
	c.forgetBindings()
	err := c.client.ContainerStart(ctx, c.id)
	if errors.Is(err, wire.ErrNotModified) {
		return nil // running already: what was asked holds, as with `docker start`
	}
	return err
}

// Stop stops the container, sending SIGKILL after timeout (negative: the
// container's own stop timeout).
func (c *Container) Stop(ctx context.Context, timeout time.Duration) error {
	c.forgetBindings()
	return c.client.ContainerStop(ctx, c.id, secs(timeout))
}

func secs(d time.Duration) *int {
	if d < 0 {
		return nil
	}
	s := int((d + time.Second - 1) / time.Second)
	return &s
}

// Restart stops and starts the container.
func (c *Container) Restart(ctx context.Context, timeout time.Duration) error {
	c.forgetBindings()
	return c.client.ContainerRestart(ctx, c.id, secs(timeout))
}

// Kill sends a signal ("" means SIGKILL).
func (c *Container) Kill(ctx context.Context, signal string) error {
	return c.client.ContainerKill(ctx, c.id, signal)
}

// Pause freezes all processes of the container.
func (c *Container) Pause(ctx context.Context) error { return c.client.ContainerPause(ctx, c.id) }

// Unpause thaws the container.
func (c *Container) Unpause(ctx context.Context) error { return c.client.ContainerUnpause(ctx, c.id) }

// Remove force-removes the container with its anonymous volumes, and the
// named volumes Run created for it. A container already gone is not an
// error.
func (c *Container) Remove(ctx context.Context) error {
	err := c.client.ContainerRemove(ctx, c.id, wire.RemoveOptions{Force: true, Volumes: true})
	if errors.Is(err, wire.ErrNotFound) || (err != nil && strings.Contains(err.Error(), "is already in progress")) {
		err = nil
	}
	for _, v := range c.volumes {
		// A volume still used by another container stays for its owner.
		if verr := c.client.VolumeRemove(ctx, v, true); verr != nil && !errors.Is(verr, wire.ErrNotFound) && !errors.Is(verr, wire.ErrConflict) && err == nil {
			err = verr
		}
	}
	return err
}

// Logs returns stdout and stderr demultiplexed, in the order the engine
// recorded their lines (two streams written at nearly the same moment may
// be recorded in either order).
// With follow the stream stays open until the container stops or ctx ends.
func (c *Container) Logs(ctx context.Context, follow bool) (io.ReadCloser, error) {
	body, err := c.client.ContainerLogs(ctx, c.id, wire.LogsOptions{Stdout: true, Stderr: true, Follow: follow})
	if err != nil {
		return nil, err
	}
	if c.tty {
		return body, nil
	}
	pr, pw := io.Pipe()
	go func() {
		err := wire.Demux(body, pw, pw)
		body.Close()
		pw.CloseWithError(err)
	}()
	return &pipeCloser{PipeReader: pr, body: body}, nil
}

type pipeCloser struct {
	*io.PipeReader
	body io.Closer
}

func (p *pipeCloser) Close() error {
	p.body.Close()
	return p.PipeReader.Close()
}

// HostPID returns the host PID of the container's main process when the
// engine runs on this machine (a unix socket), so its /proc entries can be
// read; ok is false otherwise. wait.ForListeningPort uses it.
func (c *Container) HostPID(ctx context.Context) (int, bool) {
	if c.client.Endpoint().Scheme() != "unix" {
		return 0, false
	}
	info, err := c.client.ContainerInspect(ctx, c.id)
	if err != nil || info.State == nil || info.State.Pid <= 0 {
		return 0, false
	}
	return info.State.Pid, true
}
