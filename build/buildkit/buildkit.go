// Package buildkit builds images with the BuildKit that runs inside the
// Docker Engine: the control API over the engine's /grpc endpoint and the
// client session (build context, Dockerfile, secrets, ssh agents, registry
// credentials) over /session, both through berth's own engine client.
//
// It is the only package of berth that links BuildKit's client. A program
// opts in with a blank import; build.Select then prefers it whenever the
// engine offers BuildKit:
//
//	import _ "github.com/berth-go/berth/build/buildkit"
package buildkit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	bk "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
	"github.com/tonistiigi/fsutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/berth-go/berth/build"
	"github.com/berth-go/berth/build/internal/regauth"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/link"
	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/registry"
)

func init() { build.RegisterBuildKit(Backend) }

// Backend is the BuildKit backend; the package's init registers it with
// build.RegisterBuildKit.
var Backend build.Backend = backend{}

// ErrUnsupported says the engine's BuildKit cannot do what the build asks;
// the message says what would.
var ErrUnsupported = errors.New("not supported by the engine's BuildKit")

// minAPI is the first Engine API version whose BuildKit has a stable
// /grpc and /session (Docker 18.09).
const minAPI = "1.39"

type backend struct{}

func (backend) Name() string { return "buildkit" }

// probes remembers, per engine client, whether BuildKit answered.
var probes sync.Map // *wire.Client → bool

// Available reports whether the engine offers BuildKit: an Engine API of
// at least 1.39 whose /grpc answers ListWorkers. The answer is remembered
// per client.
func (backend) Available(ctx context.Context, ec *engine.Client) bool {
	c := link.Wire(ec)
	if v, ok := probes.Load(c); ok {
		return v.(bool)
	}
	ok := probe(ctx, c)
	probes.Store(c, ok)
	return ok
}

func probe(ctx context.Context, c *wire.Client) bool {
	if ok, err := c.VersionAtLeast(ctx, minAPI); err != nil || !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cl, err := dial(ctx, c)
	if err != nil {
		return false
	}
	defer cl.Close()
	ws, err := cl.ListWorkers(ctx)
	return err == nil && len(ws) > 0
}

// dial opens a BuildKit client whose control connection is the engine's
// /grpc endpoint and whose sessions go through /session. Both live until
// life ends or the client is closed.
func dial(life context.Context, c *wire.Client) (*bk.Client, error) {
	grpcDialer := func(context.Context, string) (net.Conn, error) {
		// grpc cancels the dial context once connected: the hijacked
		// connection must outlive it.
		return c.Hijack(life, wire.Request{Method: http.MethodPost, Path: "/grpc"}, "h2c")
	}
	sessionDialer := func(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
		h := http.Header{}
		for k, vs := range meta {
			for _, v := range vs {
				h.Add(k, v)
			}
		}
		return c.Hijack(ctx, wire.Request{Method: http.MethodPost, Path: "/session", Header: h}, proto)
	}
	return bk.New(life, "", bk.WithContextDialer(grpcDialer), bk.WithSessionDialer(sessionDialer))
}

// Build builds bc with o and returns the image ID.
func (b backend) Build(ctx context.Context, ec *engine.Client, bc *build.Context, o build.Options) (string, error) {
	c := link.Wire(ec)
	fail := func(step string, err error) (string, error) {
		return "", &build.Error{Backend: b.Name(), Step: step, Err: err}
	}
	if err := bc.Validate(); err != nil {
		return "", err
	}
	if err := checkOptions(o); err != nil {
		return fail("options", err)
	}
	modern, err := c.VersionAtLeast(ctx, modernAPI)
	if err != nil {
		return fail("connect", err)
	}
	if o.ShmSize > 0 && !modern {
		return fail("options", fmt.Errorf("ShmSize: %w: this engine's BuildKit ignores it (it needs Docker Engine 23+, API %s); set BERTH_BUILDER=classic to build with the classic builder", ErrUnsupported, modernAPI))
	}
	in, err := prepare(ctx, bc, o)
	if err != nil {
		return fail("context", err)
	}
	defer in.cleanup()
	var stand standIns
	if len(o.BuildContexts) > 0 && !modern {
		// The frontend would take the names for images on Docker Hub.
		df, refs, err := namedContextImages(ctx, c, in.df, o)
		stand = refs
		defer func() {
			for _, r := range refs {
				c.ImageRemove(context.WithoutCancel(ctx), r.ref, false, false)
			}
		}()
		if err != nil {
			return fail("context", err)
		}
		if err := in.writeDockerfile(df); err != nil {
			return fail("context", err)
		}
		for name := range o.BuildContexts {
			delete(in.mounts, name)
		}
		o.BuildContexts = nil
	}

	// The engine asks the session for credentials per registry; what it
	// was given is named when a registry refuses the build.
	rec := regauth.NewRecorder(o.Keychain)
	o.Keychain = rec
	attachables, err := sessionParts(o)
	if err != nil {
		return fail("session", err)
	}

	solve := bk.SolveOpt{
		Frontend:      "dockerfile.v0",
		FrontendAttrs: frontendAttrs(o, in),
		LocalMounts:   in.mounts,
		Session:       attachables,
		SharedKey:     sharedKey(bc),
		Exports: []bk.ExportEntry{{
			// Engine 20.10's worker knows "moby", not "image".
			Type:  "moby",
			Attrs: map[string]string{"name": strings.Join(o.Tags, ",")},
		}},
	}
	if o.CacheFrom != "" {
		ref, how, err := loadCache(ctx, c, o.CacheFrom)
		if err != nil {
			return fail("cache", err)
		}
		if ref != "" {
			defer c.ImageRemove(context.WithoutCancel(ctx), ref, false, false)
			solve.CacheImports = []bk.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": ref}}}
		}
		if o.Output != nil {
			if ref == "" {
				fmt.Fprintf(o.Output, "#0 no build cache in %s yet\n", o.CacheFrom)
			} else {
				fmt.Fprintf(o.Output, "#0 build cache from %s: %s\n", o.CacheFrom, how)
			}
		}
	}
	if o.CacheTo != "" {
		solve.CacheExports = []bk.CacheOptionsEntry{{Type: "inline"}}
	}
	if o.Network == "host" {
		solve.AllowedEntitlements = []string{"network.host"}
	}

	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cl, err := dial(bctx, c)
	if err != nil {
		return fail("connect", err)
	}
	defer cl.Close()

	prog := newProgress(o.Output)
	prog.standIns = stand
	ch := make(chan *bk.SolveStatus)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for st := range ch {
			prog.update(st)
		}
	}()
	resp, err := cl.Solve(bctx, nil, solve, ch)
	<-done
	prog.finish(err != nil)
	if err != nil {
		return "", &build.Error{Backend: b.Name(), Step: prog.failedStep(), Log: prog.lines(), Err: explain(ctx, err, o, prog, rec)}
	}
	id := resp.ExporterResponse["containerimage.digest"]
	if id == "" {
		return "", &build.Error{Backend: b.Name(), Log: prog.lines(), Err: errors.New("BuildKit reported no image ID")}
	}
	if o.CacheTo != "" {
		if err := saveCache(ctx, c, id, o.CacheTo); err != nil {
			return fail("cache", err)
		}
	}
	return id, nil
}

// checkOptions refuses what the engine's BuildKit cannot do before any
// work starts.
func checkOptions(o build.Options) error {
	switch o.Network {
	case "", "default", "host", "none":
	default:
		return fmt.Errorf("network %q for RUN steps: %w; BuildKit runs steps on the default network, host or none (a user-defined network needs the classic builder: BERTH_BUILDER=classic)", o.Network, ErrUnsupported)
	}
	if strings.Contains(o.Platform, ",") {
		return fmt.Errorf("platforms %q: %w: an image in the engine has one platform; build one platform at a time", o.Platform, ErrUnsupported)
	}
	for _, h := range o.ExtraHosts {
		if i := strings.LastIndex(h, ":"); i <= 0 || i == len(h)-1 {
			return fmt.Errorf("extra host %q: want host:ip", h)
		}
	}
	return nil
}

// inputs are the local directories the session serves.
type inputs struct {
	mounts     map[string]fsutil.FS
	dockerfile string // file name inside the "dockerfile" mount
	dfDir      string
	df         []byte
	tmp        []string
	tmpRoot    string // where tempDir makes directories; "" for os.TempDir()
}

func (in *inputs) writeDockerfile(df []byte) error {
	in.df = df
	return os.WriteFile(filepath.Join(in.dfDir, in.dockerfile), df, 0o644)
}

func (in *inputs) cleanup() {
	for _, d := range in.tmp {
		os.RemoveAll(d)
	}
}

func (in *inputs) tempDir() (string, error) {
	if in.tmpRoot != "" {
		if err := os.MkdirAll(in.tmpRoot, 0o700); err != nil {
			return "", err
		}
	}
	d, err := os.MkdirTemp(in.tmpRoot, "berth-buildkit-")
	if err == nil {
		in.tmp = append(in.tmp, d)
	}
	return d, err
}

// prepare lays out the context, the Dockerfile and the named contexts as
// directories. A directory context is served as it is (the Dockerfile
// frontend applies .dockerignore); in-memory files are written to a
// temporary directory first. The Dockerfile always goes in a directory of
// its own, so .dockerignore can never exclude it.
func prepare(ctx context.Context, bc *build.Context, o build.Options) (_ *inputs, err error) {
	in := &inputs{mounts: map[string]fsutil.FS{}, dockerfile: "Dockerfile", tmpRoot: o.TempDir}
	defer func() {
		if err != nil {
			in.cleanup()
		}
	}()
	dir := bc.Dir()
	if dir == "" {
		if dir, err = in.tempDir(); err != nil {
			return nil, err
		}
		if err := extract(ctx, bc, dir); err != nil {
			return nil, err
		}
	}
	if in.mounts["context"], err = fsutil.NewFS(dir); err != nil {
		return nil, err
	}
	df, err := bc.Dockerfile()
	if err != nil {
		return nil, err
	}
	if in.dfDir, err = in.tempDir(); err != nil {
		return nil, err
	}
	if err := in.writeDockerfile(df); err != nil {
		return nil, err
	}
	if in.mounts["dockerfile"], err = fsutil.NewFS(in.dfDir); err != nil {
		return nil, err
	}
	stages := stageNames(df)
	for name, d := range o.BuildContexts {
		if name == "context" || name == "dockerfile" || name == "" {
			return nil, fmt.Errorf("named context %q: the name is reserved or empty; choose another", name)
		}
		if stages[strings.ToLower(name)] {
			return nil, fmt.Errorf("named context %q: the Dockerfile has a stage of that name; choose another", name)
		}
		st, err := os.Stat(d)
		if err != nil || !st.IsDir() {
			return nil, fmt.Errorf("named context %q: %s is not a directory: %w", name, d, build.ErrContextNotFound)
		}
		if in.mounts[name], err = fsutil.NewFS(d); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func frontendAttrs(o build.Options, in *inputs) map[string]string {
	a := map[string]string{"filename": in.dockerfile}
	if o.Target != "" {
		a["target"] = o.Target
	}
	for k, v := range o.Args {
		a["build-arg:"+k] = v
	}
	for k, v := range o.Labels {
		a["label:"+k] = v
	}
	if o.NoCache {
		a["no-cache"] = ""
	}
	if o.Pull {
		a["image-resolve-mode"] = "pull"
	}
	if o.Platform != "" {
		a["platform"] = o.Platform
	}
	if o.Network != "" && o.Network != "default" {
		a["force-network-mode"] = o.Network
	}
	if len(o.ExtraHosts) > 0 {
		hosts := make([]string, 0, len(o.ExtraHosts))
		for _, h := range o.ExtraHosts {
			i := strings.LastIndex(h, ":")
			hosts = append(hosts, h[:i]+"="+h[i+1:])
		}
		a["add-hosts"] = strings.Join(hosts, ",")
	}
	if o.ShmSize > 0 {
		a["shm-size"] = strconv.FormatInt(o.ShmSize, 10)
	}
	for name := range o.BuildContexts {
		a["context:"+name] = "local:" + name
	}
	return a
}

// sessionParts are the services the build's session offers the engine:
// secrets, ssh agents and registry credentials.
func sessionParts(o build.Options) ([]session.Attachable, error) {
	kc := o.Keychain
	if kc == nil {
		kc = registry.DefaultKeychain()
	}
	parts := []session.Attachable{&authProvider{kc: kc}}
	if len(o.Secrets) > 0 {
		var srcs []secretsprovider.Source
		for id, s := range o.Secrets {
			srcs = append(srcs, secretsprovider.Source{ID: id, FilePath: s.File, Env: s.Env})
		}
		store, err := secretsprovider.NewStore(srcs)
		if err != nil {
			return nil, fmt.Errorf("secrets: %w", err)
		}
		parts = append(parts, secretsprovider.NewSecretProvider(store))
	}
	if len(o.SSH) > 0 {
		var confs []sshprovider.AgentConfig
		for id, paths := range o.SSH {
			confs = append(confs, sshprovider.AgentConfig{ID: id, Paths: append([]string(nil), paths...)})
		}
		p, err := sshprovider.NewSSHAgentProvider(confs)
		if err != nil {
			return nil, fmt.Errorf("ssh: %w (give an agent socket, unencrypted key files, or set SSH_AUTH_SOCK)", err)
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// sharedKey lets BuildKit reuse what it synced of the same directory in an
// earlier build.
func sharedKey(bc *build.Context) string {
	if d := bc.Dir(); d != "" {
		if abs, err := filepath.Abs(d); err == nil {
			return abs
		}
	}
	return ""
}

// explain turns the engine's answer into an error that says what to do. A
// registry's refusal ("401 Unauthorized") is a *build.AuthError naming the
// registry and what rec gave it.
func explain(ctx context.Context, err error, o build.Options, prog *progress, rec *regauth.Recorder) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	msg := err.Error()
	if st, ok := status.FromError(errors.Unwrap(err)); ok && st.Code() != codes.OK {
		msg = st.Message()
	}
	msg = strings.TrimPrefix(msg, "failed to solve: ")
	msg = strings.TrimPrefix(msg, "failed to solve with frontend dockerfile.v0: ")
	msg = strings.ReplaceAll(msg, "rpc error: code = Unknown desc = ", "")
	msg = prog.standIns.restore(msg)
	log := prog.lines()
	if strings.Contains(msg, "unknown cache exporter") || strings.Contains(msg, "unknown cache importer") {
		return fmt.Errorf("%s: %w: this engine's BuildKit cannot export or import inline cache", msg, ErrUnsupported)
	}
	if host, ok := rec.Refusal(msg, prog.failedStep()); ok {
		return &build.AuthError{Registry: host, Source: rec.Sent(host), Err: errors.New(msg)}
	}
	switch {
	case strings.Contains(msg, "exec format error") || strings.Contains(strings.Join(log, "\n"), "exec format error"):
		plat := o.Platform
		if plat == "" {
			plat = "the base image's platform"
		}
		return fmt.Errorf("%s: %w: the engine cannot run binaries for %s; install QEMU emulation through binfmt_misc (e.g. docker run --privileged --rm tonistiigi/binfmt --install all) or build for the engine's platform", msg, ErrUnsupported, plat)
	case strings.Contains(msg, "exporter") && strings.Contains(msg, "could not be found"):
		return fmt.Errorf("%s: %w", msg, ErrUnsupported)
	}
	return errors.New(msg)
}
