package container

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
	"golang.org/x/sync/singleflight"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/registry"
	"github.com/berth-go/berth/wait"
)

// RunOptions carry what the caller (the harness or a session) adds to every
// container.
type RunOptions struct {
	// Labels are added to the container and to volumes it creates.
	Labels map[string]string
	// Created is called the moment a resource exists, before anything that
	// can fail, so the caller can register its removal.
	Created func(kind engine.Kind, id string)
	// Keychain gives the credentials for pulls; nil means
	// registry.DefaultKeychain(), the user's Docker configuration.
	Keychain registry.Keychain
	// Host overrides where mapped ports are reachable.
	Host string
	// Hooks run at the steps of a start.
	Hooks Hooks
	// Later, when set, makes a warm start that misses its cache start the
	// container cold (as fast as a start without Warm) and fill the cache
	// in the background: Later runs fill (in a goroutine of its own), with
	// a context and the options of the fill's own container, which should
	// outlive the caller's test (a session's labels, not a test's). nil
	// fills the cache before Run returns. WarmResult.Filled waits for it.
	Later func(fill func(ctx context.Context, opts RunOptions))
}

// Hooks run at the steps of a container's start, with the handle; an
// error fails the start (the container is removed) naming the hook.
type Hooks struct {
	// Created runs after the create, networks and files, before start.
	Created func(ctx context.Context, c *Container) error
	// Started runs once the engine started the container, before the wait.
	Started func(ctx context.Context, c *Container) error
	// Ready runs once the wait strategy said ready.
	Ready func(ctx context.Context, c *Container) error
}

// StartError reports a Run that failed after the container existed. The
// container was removed; Logs and State say what it did.
type StartError struct {
	Image string
	ID    string
	Step  string // create, copy, start, wait
	Err   error
}

func (e *StartError) Error() string {
	id := e.ID
	if len(id) > 12 {
		id = id[:12]
	}
	if id == "" {
		return fmt.Sprintf("container %s: %s: %v", ShortImage(e.Image), e.Step, e.Err)
	}
	return fmt.Sprintf("container %s (%s): %s: %v", ShortImage(e.Image), id, e.Step, e.Err)
}

// ShortImage names an image for messages: an image ID ("sha256:" and 64
// hex digits, or the bare 64) is cut to its first 12 hex digits, as docker
// shows it ("sha256:ecd46aaae42f"); a reference is returned as it is.
func ShortImage(image string) string {
	hex, prefixed := strings.CutPrefix(image, "sha256:")
	if len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
		return image
	}
	if prefixed {
		return "sha256:" + hex[:12]
	}
	return hex[:12]
}

func (e *StartError) Unwrap() error { return e.Err }

// Run creates and starts the container described by spec and waits for its
// strategy. On any failure it removes what it created and returns the error.
func Run(ctx context.Context, c *engine.Client, spec Spec, opts RunOptions) (*Container, error) {
	return run(ctx, wireOf(c), spec, opts)
}

func run(ctx context.Context, c *wire.Client, spec Spec, opts RunOptions) (*Container, error) {
	if spec.Reuse {
		return runReused(ctx, c, spec, opts)
	}
	for attempt := 1; ; attempt++ {
		ctr, err := create(ctx, c, spec, opts)
		if err != nil {
			return nil, err
		}
		err = ctr.startAndWait(ctx, spec.WaitFor)
		if err == nil {
			return ctr, nil
		}
		ctr.removeAfterFailure()
		// A host port berth picked was taken between the pick and the
		// start: pick again.
		if !ctr.autoPorts || !isPortTaken(err) || attempt == 3 {
			return nil, err
		}
	}
}

func isPortTaken(err error) bool {
	var se *StartError
	return errors.As(err, &se) && se.Step == "start" &&
		(strings.Contains(err.Error(), "port is already allocated") || strings.Contains(err.Error(), "address already in use"))
}

// pickHostPorts gives random-port publications a concrete free host port,
// so the container keeps its ports across Stop/Start and Restart (the
// engine would pick new ones). Only for an engine on this machine.
func pickHostPorts(cfg *wire.ContainerConfig) (bool, error) {
	picked := false
	for key, bindings := range cfg.HostConfig.PortBindings {
		proto := key[strings.Index(key, "/")+1:]
		for i, b := range bindings {
			if b.HostPort != "" {
				continue
			}
			port, err := freePort(proto, b.HostIP)
			if err != nil {
				return picked, err
			}
			bindings[i].HostPort = strconv.Itoa(port)
			picked = true
		}
	}
	return picked, nil
}

func freePort(proto, ip string) (int, error) {
	switch proto {
	case "udp":
		pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return 0, err
		}
		defer pc.Close()
		return pc.LocalAddr().(*net.UDPAddr).Port, nil
	case "tcp":
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return 0, err
		}
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).Port, nil
	}
	return 0, fmt.Errorf("no free-port pick for %s", proto)
}

// Create validates spec, makes sure the image is there, creates volumes and
// the container and copies files into it, without starting it.
func Create(ctx context.Context, c *engine.Client, spec Spec, opts RunOptions) (*Container, error) {
	return create(ctx, wireOf(c), spec, opts)
}

func create(ctx context.Context, c *wire.Client, spec Spec, opts RunOptions) (*Container, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	// Under the other policies the image is looked at only when the create
	// fails: most creates find it, and looking first costs every start a
	// round trip.
	if spec.Pull == PullAlways {
		if err := ensureImage(ctx, c, spec.Image, spec.Pull, spec.Platform, opts.Keychain); err != nil {
			return nil, err
		}
	}
	cfg, err := buildConfig(spec, opts.Labels)
	if err != nil {
		return nil, err
	}
	autoPorts := false
	if c.Endpoint().Scheme() == "unix" {
		if autoPorts, err = pickHostPorts(cfg); err != nil {
			return nil, &StartError{Image: spec.Image, Step: "pick host ports", Err: err}
		}
	}
	var volumes []string
	cleanupVolumes := func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		for _, v := range volumes {
			c.VolumeRemove(rctx, v, true)
		}
	}
	for _, m := range spec.Mounts {
		if m.Type != MountVolume {
			continue
		}
		if _, err := c.VolumeCreate(ctx, m.Source, opts.Labels); err != nil {
			cleanupVolumes()
			return nil, &StartError{Image: spec.Image, Step: "create volume " + m.Source, Err: err}
		}
		if opts.Created != nil {
			opts.Created(engine.KindVolume, m.Source)
		}
		volumes = append(volumes, m.Source)
	}
	resp, err := c.ContainerCreate(ctx, spec.Name, cfg, spec.Platform)
	if err != nil && spec.Pull != PullAlways && imageMissing(ctx, c, spec.Image) {
		if perr := pullMissing(ctx, c, spec.Image, spec.Pull, spec.Platform, opts.Keychain); perr != nil {
			cleanupVolumes()
			return nil, perr
		}
		resp, err = c.ContainerCreate(ctx, spec.Name, cfg, spec.Platform)
	}
	if err != nil {
		cleanupVolumes()
		if errors.Is(err, wire.ErrConflict) && spec.Name != "" {
			return nil, &StartError{Image: spec.Image, Step: "create", Err: fmt.Errorf("the name %q is already in use: choose another Name, remove the old container, or use Reuse: %w", spec.Name, err)}
		}
		if errors.Is(err, wire.ErrNotFound) && len(spec.Networks) > 0 {
			return nil, &StartError{Image: spec.Image, Step: "create", Err: fmt.Errorf("a network was not found (check Network(...) names): %w", err)}
		}
		return nil, &StartError{Image: spec.Image, Step: "create", Err: err}
	}
	if opts.Created != nil {
		opts.Created(engine.KindContainer, resp.ID)
	}
	ctr := newContainer(c, resp.ID, spec, opts)
	ctr.volumes = volumes
	ctr.autoPorts = autoPorts
	for _, n := range spec.Networks[min(1, len(spec.Networks)):] {
		if err := c.NetworkConnect(ctx, n.Network, resp.ID, n.Aliases); err != nil {
			ctr.removeAfterFailure()
			return nil, &StartError{Image: spec.Image, ID: resp.ID, Step: "connect network " + n.Network, Err: err}
		}
	}
	if len(spec.Files) > 0 {
		if err := ctr.copyFiles(ctx, spec.Files); err != nil {
			ctr.removeAfterFailure()
			return nil, &StartError{Image: spec.Image, ID: resp.ID, Step: "copy files", Err: err}
		}
	}
	if err := runHook(ctx, opts.Hooks.Created, ctr); err != nil {
		ctr.removeAfterFailure()
		return nil, &StartError{Image: spec.Image, ID: resp.ID, Step: "Created hook", Err: err}
	}
	return ctr, nil
}

func runHook(ctx context.Context, hook func(context.Context, *Container) error, c *Container) error {
	if hook == nil {
		return nil
	}
	return hook(ctx, c)
}

func (ctr *Container) startAndWait(ctx context.Context, strategy wait.Strategy) error {
	if err := ctr.client.ContainerStart(ctx, ctr.id); err != nil {
		hint := err
		if strings.Contains(err.Error(), "port is already allocated") || strings.Contains(err.Error(), "address already in use") {
			hint = fmt.Errorf("%w (a fixed host port is taken: use a random port by publishing only the container port)", err)
		} else if ce := ctr.commandError(ctx, err); ce != nil {
			hint = ce
		}
		return &StartError{Image: ctr.image, ID: ctr.id, Step: "start", Err: hint}
	}
	if err := runHook(ctx, ctr.hooks.Started, ctr); err != nil {
		return &StartError{Image: ctr.image, ID: ctr.id, Step: "Started hook", Err: err}
	}
	if strategy != nil {
		if err := strategy.Ready(ctx, ctr); err != nil {
			return &StartError{Image: ctr.image, ID: ctr.id, Step: "wait for " + strategy.String(), Err: err}
		}
	}
	if err := runHook(ctx, ctr.hooks.Ready, ctr); err != nil {
		return &StartError{Image: ctr.image, ID: ctr.id, Step: "Ready hook", Err: err}
	}
	return nil
}

// Start starts a container made by Create and waits for strategy (nil: no
// wait).
func (ctr *Container) StartAndWait(ctx context.Context, strategy wait.Strategy) error {
	return ctr.startAndWait(ctx, strategy)
}

func (ctr *Container) removeAfterFailure() {
	rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctr.Remove(rctx)
}

func buildConfig(spec Spec, labels map[string]string) (*wire.ContainerConfig, error) {
	cfg := &wire.ContainerConfig{
		Image:      spec.Image,
		Env:        sortedEnv(spec.Env),
		Cmd:        spec.Cmd,
		Entrypoint: spec.Entrypoint,
		User:       spec.User,
		WorkingDir: spec.WorkDir,
		Hostname:   spec.Hostname,
		Tty:        spec.Tty,
		OpenStdin:  spec.OpenStdin,
		StdinOnce:  spec.StdinOnce,
		Labels:     map[string]string{},
	}
	if h := spec.Healthcheck; h != nil {
		cfg.Healthcheck = &wire.HealthConfig{Test: h.Test, Interval: int64(h.Interval), Timeout: int64(h.Timeout),
			StartPeriod: int64(h.StartPeriod), Retries: h.Retries}
	}
	for k, v := range spec.Labels {
		cfg.Labels[k] = v
	}
	for k, v := range labels {
		cfg.Labels[k] = v
	}
	hc := &wire.HostConfig{
		AutoRemove: spec.AutoRemove,
		Privileged: spec.Privileged,
		CapAdd:     spec.CapAdd,
		ExtraHosts: spec.ExtraHosts,
		Resources:  wire.Resources{Memory: spec.Memory},
	}
	if spec.CPUs > 0 {
		hc.NanoCPUs = int64(math.Round(spec.CPUs * 1e9))
	}
	hc.ShmSize, hc.Sysctls, hc.CapDrop, hc.SecurityOpt, hc.ReadonlyRootfs = spec.ShmSize, spec.Sysctls, spec.CapDrop, spec.SecurityOpt, spec.ReadOnlyRootfs
	if spec.Init {
		hc.Init = &spec.Init
	}
	for _, u := range spec.Ulimits {
		hc.Ulimits = append(hc.Ulimits, wire.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	for _, d := range spec.Devices {
		hc.Devices = append(hc.Devices, deviceMapping(d))
	}
	if spec.Modify != nil {
		cfg.Edit = func(body map[string]any) error {
			hostConfig, _ := body["HostConfig"].(map[string]any)
			if hostConfig == nil {
				hostConfig = map[string]any{}
			}
			req := &CreateRequest{Config: body, HostConfig: hostConfig}
			if err := spec.Modify(req); err != nil {
				return &SpecError{Field: "Modify", Err: err}
			}
			body["HostConfig"] = req.HostConfig
			return nil
		}
	}
	if len(spec.Ports) > 0 {
		cfg.ExposedPorts = map[string]struct{}{}
		hc.PortBindings = map[string][]wire.PortBinding{}
		for _, p := range spec.Ports {
			ps, err := ParsePort(p)
			if err != nil {
				return nil, err
			}
			cfg.ExposedPorts[ps.Key()] = struct{}{}
			hp := ""
			if ps.HostPort != 0 {
				hp = strconv.Itoa(ps.HostPort)
			}
			hc.PortBindings[ps.Key()] = append(hc.PortBindings[ps.Key()], wire.PortBinding{HostIP: ps.HostIP, HostPort: hp})
		}
	}
	for _, m := range spec.Mounts {
		wm := wire.Mount{Type: string(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
		if m.Type == MountTmpfs {
			wm.Source = ""
			if m.TmpfsSize > 0 {
				wm.TmpfsOptions = &wire.TmpfsOptions{SizeBytes: m.TmpfsSize}
			}
		}
		hc.Mounts = append(hc.Mounts, wm)
	}
	if spec.StopTimeout > 0 {
		secs := int(spec.StopTimeout.Round(time.Second) / time.Second)
		cfg.StopTimeout = &secs
	}
	if len(spec.Networks) > 0 {
		hc.NetworkMode = spec.Networks[0].Network
		// The engine (API < 1.44) accepts one network at create; the rest
		// are connected before start.
		cfg.NetworkingConfig = &wire.NetworkingConfig{EndpointsConfig: map[string]*wire.EndpointSettings{
			spec.Networks[0].Network: {Aliases: spec.Networks[0].Aliases},
		}}
	}
	cfg.HostConfig = hc
	return cfg, nil
}

// pulls makes concurrent pulls of one reference with the same credentials
// in this process happen once.
var pulls singleflight.Group

// pullTimeout bounds a shared pull: it runs on after a caller gives up, for
// the callers still waiting.
const pullTimeout = 10 * time.Minute

// PullError reports a failed pull: which reference, which registry, whether
// the engine lacked the image, whether credentials were sent and where they
// came from (never the credentials). It unwraps to the engine's error, so
// errors.Is matches engine.ErrNotFound and engine.ErrUnauthorized as the
// registry answered, and ErrImageMissing when the image is not on the
// engine.
type PullError struct {
	Ref      string
	Registry string
	WithAuth bool
	// AuthSource is where the credentials sent came from; Kind
	// registry.SourceAnonymous when none were.
	AuthSource registry.Source
	// Missing says the engine does not have the image: the pull was to
	// fetch it, not to refresh it (PullAlways).
	Missing bool
	Err     error

	lookup bool // Err came from looking up credentials, not from the pull
}

// credentialsInCode says how a test gives a container pull credentials.
const credentialsInCode = "Auth(...) on the builder"

func (e *PullError) Error() string {
	var b strings.Builder
	if e.Missing {
		fmt.Fprintf(&b, "image %s is not on the engine and pulling it from %s failed: ", ShortImage(e.Ref), e.Registry)
	} else {
		fmt.Fprintf(&b, "pull %s from %s failed: ", e.Ref, e.Registry)
	}
	if e.lookup {
		fmt.Fprintf(&b, "looking up credentials: %v; fix the credential configuration (%s, else %s)", e.Err, credentialsInCode, registry.LookupOrder)
		return b.String()
	}
	// Only an answer from the registry that refused the pull is about
	// credentials; a name it does not know, a registry it cannot reach, or
	// a network failure is not.
	if errors.Is(e.Err, engine.ErrUnauthorized) {
		fmt.Fprintf(&b, "the registry refused it (401 Unauthorized); %s", registry.Refusal(e.Registry, e.AuthSource, credentialsInCode))
		return b.String()
	}
	fmt.Fprintf(&b, "%v", e.Err)
	if e.Missing {
		b.WriteString("; check the image name and tag (`docker images` lists what the engine has), build or load the image first, or use Pull(container.PullNever) to never pull")
	} else {
		b.WriteString("; check the image name and tag, or, when the engine has a copy to start from, use PullMissing (the default) instead of PullAlways")
	}
	return b.String()
}

func (e *PullError) Unwrap() error { return e.Err }

// Is makes a PullError of an image the engine lacks match ErrImageMissing.
func (e *PullError) Is(target error) bool { return target == ErrImageMissing && e.Missing }

// ErrImageMissing is matched when the image is not on the engine and could
// not be had: the pull policy is never (a plain error) or the pull failed
// (a *PullError).
var ErrImageMissing = errors.New("image not on the engine")

// EnsureImage makes the image available according to policy, pulling with
// credentials from kc (nil: the user's Docker configuration).
func EnsureImage(ctx context.Context, c *engine.Client, ref string, policy PullPolicy, platform string, kc registry.Keychain) error {
	return ensureImage(ctx, wireOf(c), ref, policy, platform, kc)
}

func ensureImage(ctx context.Context, c *wire.Client, ref string, policy PullPolicy, platform string, kc registry.Keychain) error {
	if policy != PullAlways {
		_, err := c.ImageInspect(ctx, ref)
		if err == nil {
			return nil
		}
		if !errors.Is(err, wire.ErrNotFound) {
			return fmt.Errorf("inspect image %s: %w", ref, err)
		}
	}
	return pullMissing(ctx, c, ref, policy, platform, kc)
}

// imageMissing reports whether the engine says it has no image ref (false
// when it cannot tell).
func imageMissing(ctx context.Context, c *wire.Client, ref string) bool {
	_, err := c.ImageInspect(ctx, ref)
	return errors.Is(err, wire.ErrNotFound)
}

// pullMissing pulls ref, which the engine lacks or PullAlways wants pulled
// again; under PullNever the error wraps ErrImageMissing. Concurrent pulls
// of one reference with the same credentials share one, which runs under a
// bound of its own: each caller waits only as long as its own ctx allows.
func pullMissing(ctx context.Context, c *wire.Client, ref string, policy PullPolicy, platform string, kc registry.Keychain) error {
	if policy == PullNever {
		return fmt.Errorf("image %s: %w and the pull policy is never: build or load it first, or allow pulls", ref, ErrImageMissing)
	}
	r, err := registry.ParseReference(ref)
	if err != nil {
		return &PullError{Ref: ref, Registry: "?", Err: err, Missing: policy != PullAlways}
	}
	header, source, err := pullCredentials(ctx, kc, r)
	if err != nil {
		return &PullError{Ref: ref, Registry: r.Domain, Err: err, lookup: true, Missing: policy != PullAlways}
	}
	sum := sha256.Sum256([]byte(header)) // the key holds no secret
	key := r.String() + "|" + platform + "|" + hex.EncodeToString(sum[:8])
	ch := pulls.DoChan(key, func() (any, error) {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pullTimeout)
		defer cancel()
		return nil, pull(pctx, c, r, platform, header, source)
	})
	select {
	case <-ctx.Done():
		return fmt.Errorf("pull %s: %w", ref, context.Cause(ctx))
	case res := <-ch:
		err = res.Err
	}
	var pe *PullError
	if errors.As(err, &pe) {
		// A copy: the error is shared with concurrent callers, whose
		// policies and references may differ.
		cp := *pe
		cp.Ref = ref
		cp.Missing = policy != PullAlways
		return &cp
	}
	return err
}

// pullCredentials looks up the credentials for r's registry in kc and
// encodes them for X-Registry-Auth ("" for anonymous).
func pullCredentials(ctx context.Context, kc registry.Keychain, r registry.Reference) (string, registry.Source, error) {
	if kc == nil {
		kc = registry.DefaultKeychain()
	}
	a, src, err := kc.Resolve(ctx, r.Domain)
	if err != nil {
		return "", src, err
	}
	if a.IsAnonymous() {
		return "", registry.Source{Kind: registry.SourceAnonymous, Key: r.AuthKey()}, nil
	}
	if a.ServerAddress == "" {
		a.ServerAddress = r.AuthKey()
	}
	h, err := registry.EncodeAuthHeader(a)
	return h, src, err
}

func pull(ctx context.Context, c *wire.Client, r registry.Reference, platform, header string, source registry.Source) error {
	tag := r.Tag
	if r.Digest != "" {
		tag = r.Digest
	}
	b := backoff.WithContext(backoff.WithMaxRetries(&backoff.ExponentialBackOff{
		InitialInterval: 200 * time.Millisecond, RandomizationFactor: 0.3, Multiplier: 2,
		MaxInterval: 2 * time.Second, MaxElapsedTime: 30 * time.Second, Clock: backoff.SystemClock,
	}, 3), ctx)
	err := backoff.Retry(func() error {
		err := c.ImagePull(ctx, r.Name(), tag, platform, header, nil)
		if err == nil {
			return nil
		}
		if transientPullError(err) {
			return err
		}
		return backoff.Permanent(err)
	}, b)
	if err != nil {
		return &PullError{Ref: r.String(), Registry: r.Domain, WithAuth: header != "", AuthSource: source, Err: err}
	}
	return nil
}

// transientPullError reports errors worth retrying: not auth, not missing,
// not a cancelled ctx.
func transientPullError(err error) bool {
	if errors.Is(err, wire.ErrUnauthorized) || errors.Is(err, wire.ErrNotFound) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	m := strings.ToLower(err.Error())
	for _, s := range []string{"denied", "invalid reference", "manifest unknown", "repository does not exist", "no such host", "connection refused"} {
		if strings.Contains(m, s) {
			return false
		}
	}
	return true
}
