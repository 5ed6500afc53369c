package berth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/network"
	"github.com/berth-go/berth/registry"
	"github.com/berth-go/berth/wait"
)

// ContainerBuilder describes a container fluently. Each method records the
// first bad input; Start reports it naming the call, StartE returns it.
type ContainerBuilder struct {
	logTo    []func(container.LogLine)
	hooks    container.Hooks
	onRemove []func(ctx context.Context, c *Container)
	s        *scope
	spec     container.Spec
	keychain registry.Keychain // nil: the session's
	warm     *container.Warm
	shared   bool // made by Shared: see startShared
	// hostPorts are the test process's ports the container reaches
	// (HostAccess).
	hostPorts []int
	err       error
}

// Container starts describing a container from image.
func (s *scope) Container(image string) *ContainerBuilder {
	b := &ContainerBuilder{s: s, spec: container.Spec{Image: mirrored(s.session.mirrors, image)}}
	if err := container.ValidateImageRef(image); err != nil {
		b.err = err
	}
	return b
}

func (b *ContainerBuilder) fail(call string, err error) *ContainerBuilder {
	if b.err == nil && err != nil {
		b.err = callError(call, err)
	}
	return b
}

// callError names the builder call that failed, unless err is a
// *container.SpecError, which names it already.
func callError(call string, err error) error {
	var se *container.SpecError
	if errors.As(err, &se) {
		return err
	}
	return fmt.Errorf("%s: %w", call, err)
}

// Spec returns the container's description so far.
func (b *ContainerBuilder) Spec() container.Spec { return b.spec }

// Env sets an environment variable.
func (b *ContainerBuilder) Env(key, value string) *ContainerBuilder {
	if err := container.CheckEnvName(key); err != nil {
		return b.fail("Env", err)
	}
	setEntry(&b.spec.Env, key, value)
	return b
}

// Cmd sets the command (the image's CMD is replaced).
func (b *ContainerBuilder) Cmd(args ...string) *ContainerBuilder {
	b.spec.Cmd = args
	return b
}

// Entrypoint replaces the image's ENTRYPOINT.
func (b *ContainerBuilder) Entrypoint(args ...string) *ContainerBuilder {
	b.spec.Entrypoint = args
	return b
}

// Port publishes container ports: "8080/tcp" gets a random host port;
// "15432:5432" a fixed one.
func (b *ContainerBuilder) Port(ports ...string) *ContainerBuilder {
	for _, p := range ports {
		if _, err := container.ParsePort(p); err != nil {
			return b.fail("Port", err)
		}
		b.spec.Ports = append(b.spec.Ports, p)
	}
	return b
}

// Label adds a label.
func (b *ContainerBuilder) Label(key, value string) *ContainerBuilder {
	if strings.HasPrefix(key, "berth.") {
		return b.fail("Label", &container.SpecError{Field: "Label", Value: key, Hint: "the berth. prefix is reserved"})
	}
	setEntry(&b.spec.Labels, key, value)
	return b
}

// User runs the container as user ("name", "uid", "uid:gid").
func (b *ContainerBuilder) User(user string) *ContainerBuilder { b.spec.User = user; return b }

// WorkDir sets the working directory.
func (b *ContainerBuilder) WorkDir(dir string) *ContainerBuilder { b.spec.WorkDir = dir; return b }

// Hostname sets the container's host name.
func (b *ContainerBuilder) Hostname(name string) *ContainerBuilder { b.spec.Hostname = name; return b }

// Name names the container (engine-wide; unnamed containers get a random
// name).
func (b *ContainerBuilder) Name(name string) *ContainerBuilder { b.spec.Name = name; return b }

// BindMount mounts a host path.
func (b *ContainerBuilder) BindMount(hostPath, target string, readOnly bool) *ContainerBuilder {
	if err := container.CheckBindSource(hostPath); err != nil {
		return b.fail("BindMount", err)
	}
	b.spec.Mounts = append(b.spec.Mounts, container.Mount{Type: container.MountBind, Source: hostPath, Target: target, ReadOnly: readOnly})
	return b
}

// VolumeMount mounts a named volume, created by berth (unique to this test
// or session, shared by its containers that use the same name) and removed
// at cleanup.
func (b *ContainerBuilder) VolumeMount(name, target string) *ContainerBuilder {
	if name == "" {
		return b.fail("VolumeMount", &container.SpecError{Field: "VolumeMount", Value: target, Hint: "give the volume a name"})
	}
	b.spec.Mounts = append(b.spec.Mounts, container.Mount{Type: container.MountVolume, Source: b.s.uniqueName(name), Target: target})
	return b
}

// VolumeMountReadOnly mounts the named volume of VolumeMount read-only,
// e.g. for a container that only reads what another one writes.
func (b *ContainerBuilder) VolumeMountReadOnly(name, target string) *ContainerBuilder {
	if name == "" {
		return b.fail("VolumeMountReadOnly", &container.SpecError{Field: "VolumeMountReadOnly", Value: target, Hint: "give the volume a name"})
	}
	b.spec.Mounts = append(b.spec.Mounts, container.Mount{Type: container.MountVolume, Source: b.s.uniqueName(name), Target: target, ReadOnly: true})
	return b
}

// TmpfsMount mounts a tmpfs of at most sizeBytes (0: engine default).
func (b *ContainerBuilder) TmpfsMount(target string, sizeBytes int64) *ContainerBuilder {
	b.spec.Mounts = append(b.spec.Mounts, container.Mount{Type: container.MountTmpfs, Target: target, TmpfsSize: sizeBytes})
	return b
}

// File copies a host file or directory to target before the container
// starts.
func (b *ContainerBuilder) File(hostPath, target string) *ContainerBuilder {
	if err := container.CheckHostFile(hostPath); err != nil {
		return b.fail("File", err)
	}
	b.spec.Files = append(b.spec.Files, container.File{HostPath: hostPath, Target: target})
	return b
}

// FileContent writes content as target with mode before the container
// starts.
func (b *ContainerBuilder) FileContent(target string, content []byte, mode os.FileMode) *ContainerBuilder {
	b.spec.Files = append(b.spec.Files, container.File{Content: content, Target: target, Mode: mode})
	return b
}

// Memory limits the container's memory in bytes.
func (b *ContainerBuilder) Memory(bytes int64) *ContainerBuilder { b.spec.Memory = bytes; return b }

// CPUs limits the container to n CPUs (e.g. 0.5).
func (b *ContainerBuilder) CPUs(n float64) *ContainerBuilder { b.spec.CPUs = n; return b }

// Privileged runs the container privileged.
func (b *ContainerBuilder) Privileged() *ContainerBuilder { b.spec.Privileged = true; return b }

// CapAdd adds Linux capabilities ("NET_ADMIN").
func (b *ContainerBuilder) CapAdd(caps ...string) *ContainerBuilder {
	b.spec.CapAdd = append(b.spec.CapAdd, caps...)
	return b
}

// ExtraHost adds a host name → IP entry to /etc/hosts ("host-gateway"
// names the host).
func (b *ContainerBuilder) ExtraHost(host, ip string) *ContainerBuilder {
	if err := container.CheckExtraHost(host + ":" + ip); err != nil {
		return b.fail("ExtraHost", err)
	}
	b.spec.ExtraHosts = append(b.spec.ExtraHosts, host+":"+ip)
	return b
}

// Network joins the container to net with aliases other containers on net
// can resolve.
func (b *ContainerBuilder) Network(net *network.Network, aliases ...string) *ContainerBuilder {
	if net == nil {
		return b.fail("Network", fmt.Errorf("nil network: create one with h.Network(name)"))
	}
	b.spec.Networks = append(b.spec.Networks, container.NetworkAttachment{Network: net.Name(), Aliases: aliases})
	return b
}

// AutoRemove lets the engine remove the container when it exits.
func (b *ContainerBuilder) AutoRemove() *ContainerBuilder { b.spec.AutoRemove = true; return b }

// OpenStdin keeps the container's stdin open for Attach; with once, stdin
// closes after the first attached client detaches.
func (b *ContainerBuilder) OpenStdin(once bool) *ContainerBuilder {
	b.spec.OpenStdin, b.spec.StdinOnce = true, once
	return b
}

// Tty allocates a pseudo-TTY (output is then not split by stream).
func (b *ContainerBuilder) Tty() *ContainerBuilder { b.spec.Tty = true; return b }

// Pull sets the pull policy (default PullMissing).
func (b *ContainerBuilder) Pull(p container.PullPolicy) *ContainerBuilder { b.spec.Pull = p; return b }

// Platform selects the image platform ("linux/amd64").
func (b *ContainerBuilder) Platform(p string) *ContainerBuilder { b.spec.Platform = p; return b }

// ShmSize sets the size of /dev/shm in bytes (docker run --shm-size).
func (b *ContainerBuilder) ShmSize(bytes int64) *ContainerBuilder { b.spec.ShmSize = bytes; return b }

// Ulimit sets a resource limit of the container's processes (docker run
// --ulimit name=soft:hard).
func (b *ContainerBuilder) Ulimit(name string, soft, hard int64) *ContainerBuilder {
	u := container.Ulimit{Name: name, Soft: soft, Hard: hard}
	if err := container.CheckUlimit(u); err != nil {
		return b.fail("Ulimit", err)
	}
	b.spec.Ulimits = append(b.spec.Ulimits, u)
	return b
}

// Sysctl sets a namespaced kernel parameter (docker run --sysctl).
func (b *ContainerBuilder) Sysctl(key, value string) *ContainerBuilder {
	setEntry(&b.spec.Sysctls, key, value)
	return b
}

// Device makes a host device available: "/dev/fuse", or
// "/dev/host:/dev/container:rwm" (docker run --device).
func (b *ContainerBuilder) Device(device string) *ContainerBuilder {
	if err := container.CheckDevice(device); err != nil {
		return b.fail("Device", err)
	}
	b.spec.Devices = append(b.spec.Devices, device)
	return b
}

// Init runs an init process as PID 1 that forwards signals and reaps
// zombies (docker run --init).
func (b *ContainerBuilder) Init() *ContainerBuilder { b.spec.Init = true; return b }

// CapDrop drops Linux capabilities ("NET_RAW", or "ALL").
func (b *ContainerBuilder) CapDrop(caps ...string) *ContainerBuilder {
	b.spec.CapDrop = append(b.spec.CapDrop, caps...)
	return b
}

// SecurityOpt adds a security option ("no-new-privileges",
// "seccomp=unconfined", "apparmor=PROFILE").
func (b *ContainerBuilder) SecurityOpt(opts ...string) *ContainerBuilder {
	b.spec.SecurityOpt = append(b.spec.SecurityOpt, opts...)
	return b
}

// ReadOnlyRootfs mounts the container's root filesystem read-only.
func (b *ContainerBuilder) ReadOnlyRootfs() *ContainerBuilder { b.spec.ReadOnlyRootfs = true; return b }

// Modify changes the engine's create request after berth has filled it,
// for any setting the builder has no call for, in the Engine API's own
// names:
//
//	Modify(func(r *container.CreateRequest) error {
//		r.HostConfig["OomScoreAdj"] = 500
//		return nil
//	})
//
// Calls run in order; an error fails the start, naming Modify.
func (b *ContainerBuilder) Modify(f func(*container.CreateRequest) error) *ContainerBuilder {
	prev := b.spec.Modify
	b.spec.Modify = func(r *container.CreateRequest) error {
		if prev != nil {
			if err := prev(r); err != nil {
				return err
			}
		}
		return f(r)
	}
	return b
}

// StopTimeout is the grace period of Stop (default: kill at once) and of
// the stop before a warm fill's commit (default there: 30 s, see Warm).
func (b *ContainerBuilder) StopTimeout(d time.Duration) *ContainerBuilder {
	b.spec.StopTimeout = d
	return b
}

// Healthcheck gives the container a HEALTHCHECK in place of the image's
// (container.Healthcheck{Test: []string{"NONE"}} turns it off); wait for
// it with wait.ForHealthy.
func (b *ContainerBuilder) Healthcheck(hc container.Healthcheck) *ContainerBuilder {
	hc.Test = append([]string(nil), hc.Test...)
	b.spec.Healthcheck = &hc
	return b
}

// WaitFor sets the readiness strategy Start waits for.
func (b *ContainerBuilder) WaitFor(s wait.Strategy) *ContainerBuilder { b.spec.WaitFor = s; return b }

// Reuse finds a running container named name made from the same spec and
// returns it instead of creating one; it is not removed at cleanup.
func (b *ContainerBuilder) Reuse(name string) *ContainerBuilder {
	if name == "" {
		return b.fail("Reuse", &container.SpecError{Field: "Reuse", Value: "", Hint: "give the container name to reuse"})
	}
	b.spec.Name, b.spec.Reuse = name, true
	return b
}

// Err is the first error recorded by the builder's calls.
func (b *ContainerBuilder) Err() error { return b.err }

// StartE creates and starts the container and waits for it; on failure it
// removes what it created and returns the error.
func (b *ContainerBuilder) StartE(ctx context.Context) (*Container, error) {
	if b.err != nil {
		return nil, b.err
	}
	done, err := b.s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	if err := b.grantHostAccess(ctx); err != nil {
		return nil, err
	}
	if b.shared {
		return b.startShared(ctx)
	}
	opts := b.s.runOptions()
	opts.Hooks = b.hooks
	if b.keychain != nil {
		opts.Keychain = b.keychain
	}
	if b.warm != nil && WarmEnabled() {
		b.warmOptions(&opts)
		ctr, res, err := container.RunWarm(ctx, b.s.client(), b.spec, opts, *b.warm)
		if err != nil {
			return nil, err
		}
		b.awaitFill(&res)
		b.s.attachHandle(ctr)
		b.s.follow(ctr, b.logTo)
		h := &Container{Container: ctr, tb: b.s.tb, warm: &res}
		b.s.onRemove(ctr.ID(), h, b.onRemove)
		return h, nil
	}
	ctr, err := container.Run(ctx, b.s.client(), b.spec, opts)
	if err != nil {
		return nil, err
	}
	b.s.attachHandle(ctr)
	b.s.follow(ctr, b.logTo)
	h := &Container{Container: ctr, tb: b.s.tb}
	b.s.onRemove(ctr.ID(), h, b.onRemove)
	return h, nil
}

// Warm starts the container from a cached image of its initialized state
// (see container.Warm). keys are extra inputs of the cache key. The first
// run fills the cache; later runs with the same inputs skip the work.
// BERTH_WARM=0 turns warm starts off.
//
// The test that misses the cache gets a container started cold (its
// WarmSetup included) and the cache fills from a second container in the
// background, joining no network and on random host ports, so the miss
// costs no more than a cold start; berth.Main (or, without it, the
// test's end) waits for the fill, and parallel misses of one input fill
// once. WarmSetup runs in both containers.
//
// The fill stops the container cleanly before committing it, waiting
// StopTimeout (30 s when it is not set) before SIGKILL: a clean stop is
// what makes the committed state consistent, e.g. a database's files. A
// PID 1 that ignores SIGTERM (a bare `sleep 3600`) costs the stop timeout
// once per distinct warm key: give such a container a short StopTimeout.
func (b *ContainerBuilder) Warm(keys ...string) *ContainerBuilder {
	if b.warm == nil {
		b.warm = &container.Warm{}
	}
	b.warm.Keys = append(b.warm.Keys, keys...)
	return b
}

// WarmSetup runs setup against the started container before its state is
// committed to the warm cache (migrations, seed data). It implies Warm.
func (b *ContainerBuilder) WarmSetup(setup func(ctx context.Context, c *Container) error) *ContainerBuilder {
	b.Warm()
	tb := b.s.tb
	b.warm.Setup = func(ctx context.Context, c *container.Container) error {
		return setup(ctx, &Container{Container: c, tb: tb})
	}
	return b
}

// Cold turns a warm start off for this container.
func (b *ContainerBuilder) Cold() *ContainerBuilder { b.warm = nil; return b }

// WarmEnabled reports whether warm starts are on (BERTH_WARM is not "0").
func WarmEnabled() bool { return os.Getenv("BERTH_WARM") != "0" }

// Start is StartE with the test's context; an error fails the test at once
// with what went wrong. On a session, Start panics on error: use StartE.
func (b *ContainerBuilder) Start() *Container {
	if b.s.tb == nil {
		c, err := b.StartE(context.Background())
		if err != nil {
			panic(fmt.Sprintf("berth: Container(%q).Start: %v", container.ShortImage(b.spec.Image), err))
		}
		return c
	}
	b.s.tb.Helper()
	c, err := b.StartE(b.s.tb.Context())
	if err != nil {
		b.s.tb.Fatalf("berth: Container(%q).Start: %v", container.ShortImage(b.spec.Image), err)
	}
	return c
}

// Container is a started container of a test or session. It embeds the
// full handle (*container.Container: Exec, CopyTo, Logs, Stop, ...) and
// adds conveniences that fail the test instead of returning errors.
type Container struct {
	*container.Container
	tb   testingTB
	warm *container.WarmResult
}

// WarmResult says whether the container started from the warm cache; nil
// when it was started cold.
func (c *Container) WarmResult() *container.WarmResult { return c.warm }

// testingTB is the part of testing.TB Container uses.
type testingTB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Endpoint returns "http://host:port" for a container port, failing the
// test on error. Use Container.Container.Endpoint for other schemes or to
// handle the error.
func (c *Container) Endpoint(ctx context.Context, port string) string {
	u, err := c.Container.Endpoint(ctx, port, "http")
	if err != nil {
		c.fatal("Endpoint", err)
	}
	return u
}

// HostPort returns "host:port" for a container port, failing the test on
// error.
func (c *Container) HostPort(ctx context.Context, port string) string {
	u, err := c.Container.Endpoint(ctx, port, "")
	if err != nil {
		c.fatal("HostPort", err)
	}
	return u
}

func (c *Container) fatal(call string, err error) {
	if c.tb == nil {
		panic(fmt.Sprintf("berth: %s: %v", call, err))
	}
	c.tb.Helper()
	c.tb.Fatalf("berth: %s: %v", call, err)
}

// setEntry sets (*m)[key] to value, making the map when it is nil.
func setEntry(m *map[string]string, key, value string) {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[key] = value
}
