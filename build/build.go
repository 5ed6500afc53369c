package build

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/link"
	"github.com/berth-go/berth/internal/wire"
)

// CacheRepo names the kept image of every build. Built images carry
// engine.LabelBuild and their input hash in engine.LabelCache.
const CacheRepo = "berth-cache/build"

var (
	buildkitMu sync.Mutex
	buildkit   Backend
)

// RegisterBuildKit installs the BuildKit backend; build/buildkit calls it
// from its init, so a program opts in with a blank import:
//
//	import _ "github.com/berth-go/berth/build/buildkit"
//
// A test binary that never imports it does not link BuildKit.
func RegisterBuildKit(b Backend) {
	buildkitMu.Lock()
	buildkit = b
	buildkitMu.Unlock()
}

// Prober is implemented by backends that can tell whether an engine offers
// them.
type Prober interface {
	Available(ctx context.Context, c *engine.Client) bool
}

// Select picks the backend: BuildKit when it is registered, not turned off
// by BERTH_BUILDER=classic, and the engine offers it; classic otherwise.
func Select(ctx context.Context, c *engine.Client) Backend {
	if os.Getenv("BERTH_BUILDER") == "classic" {
		return Classic
	}
	buildkitMu.Lock()
	bk := buildkit
	buildkitMu.Unlock()
	if bk == nil {
		return Classic
	}
	if p, ok := bk.(Prober); ok && !p.Available(ctx, c) {
		return Classic
	}
	return bk
}

// Result is a finished build.
type Result struct {
	ImageID string
	Ref     string // the kept berth-cache/build reference
	Hash    string
	Cached  bool // reused from an earlier identical build
	Backend string
}

var flights singleflight.Group

// Build builds bc with o on the selected backend. An identical build (same
// context content, options and base images) returns the image an earlier
// run made, unless NoCache; identical builds running at once build once.
func Build(ctx context.Context, ec *engine.Client, bc *Context, o Options) (Result, error) {
	c := link.Wire(ec)
	if err := bc.Validate(); err != nil {
		return Result{}, err
	}
	if err := o.check(); err != nil {
		return Result{}, err
	}
	backend := Select(ctx, ec)
	if want := os.Getenv("BERTH_BUILDER"); want == "buildkit" && backend.Name() != want {
		buildkitMu.Lock()
		registered := buildkit != nil
		buildkitMu.Unlock()
		why := "the engine offers no BuildKit (Podman, or an Engine API before 1.39)"
		if !registered {
			why = `this program does not import _ "github.com/berth-go/berth/build/buildkit"`
		}
		return Result{}, fmt.Errorf("BERTH_BUILDER=buildkit: %w: %s", ErrNeedsBuildKit, why)
	}
	hash, err := inputHash(ctx, c, bc, o, backend.Name())
	if err != nil {
		return Result{}, err
	}
	ref := CacheRepo + ":" + hash[:24]
	// A build that exports its cache runs the builder, whose own cache
	// makes it quick, so the directory is written.
	if !o.NoCache && o.CacheTo == "" {
		if id, ok := cached(ctx, c, hash); ok {
			if err := tagAll(ctx, c, id, o.Tags); err != nil {
				return Result{}, err
			}
			res := Result{ImageID: id, Ref: ref, Hash: hash, Cached: true, Backend: backend.Name()}
			return res, exportAll(ctx, c, res, o)
		}
	}
	v, err, _ := flights.Do(hash, func() (any, error) {
		bo := o
		bo.Labels = map[string]string{}
		for k, v := range o.Labels {
			bo.Labels[k] = v
		}
		bo.Labels[engine.LabelCache] = hash
		bo.Labels[engine.LabelBuild] = backend.Name()
		bo.Tags = append([]string{ref}, o.Tags...)
		prev := ""
		if ins, err := c.ImageInspect(ctx, ref); err == nil {
			prev = ins.ID
		}
		id, err := backend.Build(ctx, ec, bc, bo)
		if err == nil && prev != "" && prev != id {
			retire(ctx, c, prev)
		}
		return id, err
	})
	if err != nil {
		return Result{}, err
	}
	id := v.(string)
	// A caller that shared another's flight still wants its own tags.
	if err := tagAll(ctx, c, id, o.Tags); err != nil {
		return Result{}, err
	}
	res := Result{ImageID: id, Ref: ref, Hash: hash, Backend: backend.Name()}
	return res, exportAll(ctx, c, res, o)
}

// exportAll writes the image to the files o asks for, under the build's
// tags (or its berth-cache reference), so a load brings them back.
func exportAll(ctx context.Context, c *wire.Client, res Result, o Options) error {
	refs := o.Tags
	if len(refs) == 0 {
		refs = []string{res.Ref}
	}
	for _, e := range o.Exports {
		if err := e.write(ctx, c, refs...); err != nil {
			return err
		}
	}
	return nil
}

// cached finds the image an earlier identical build made: by its
// berth-cache reference (one inspect, whatever the number of images),
// checked against the hash label.
func cached(ctx context.Context, c *wire.Client, hash string) (string, bool) {
	ins, err := c.ImageInspect(ctx, CacheRepo+":"+hash[:24])
	if err != nil || ins.Config == nil || ins.Config.Labels[engine.LabelCache] != hash {
		return "", false
	}
	return ins.ID, true
}

// retire removes the image a build took the berth-cache tag from (a
// NoCache build, or a rebuild that made a different image of the same
// input) unless something else holds it: another tag or a digest (kept
// here), a container or a child image (the engine refuses a plain
// remove). Left alone it would linger untagged after every such build.
// Its untagged parents go with it, as with docker rmi. A failure only
// leaves the image behind, as before, so the build still succeeds.
func retire(ctx context.Context, c *wire.Client, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	ins, err := c.ImageInspect(ctx, id)
	if err != nil || len(ins.RepoTags) > 0 || len(ins.RepoDigests) > 0 {
		return
	}
	c.ImageRemove(ctx, id, false, false)
}

func tagAll(ctx context.Context, c *wire.Client, id string, tags []string) error {
	for _, t := range tags {
		repo, tag := t, "latest"
		if i := strings.LastIndex(t, ":"); i > strings.LastIndex(t, "/") {
			repo, tag = t[:i], t[i+1:]
		}
		if err := c.ImageTag(ctx, id, repo, tag); err != nil {
			return fmt.Errorf("tag %s: %w", t, err)
		}
	}
	return nil
}

// inputHash covers the context's content, the options that shape the image
// and the IDs of the base images as they are on the engine now. Of secrets
// and ssh agents it takes the ids only: which ones a build has changes
// the hash, their values never go near it (nor into the berth.cache
// label, which anyone can read).
func inputHash(ctx context.Context, c *wire.Client, bc *Context, o Options, backend string) (string, error) {
	h := sha256.New()
	ch, err := bc.Hash(ctx)
	if err != nil {
		return "", err
	}
	df, err := bc.Dockerfile()
	if err != nil {
		return "", err
	}
	shape := struct {
		Context, Dockerfile, Target, Platform, Network, Backend string
		Args, Labels                                            map[string]string
		ExtraHosts                                              []string
		ShmSize                                                 int64
		Secrets, SSH                                            []string
		Contexts                                                map[string]string
		Bases                                                   []string
	}{Context: ch, Dockerfile: string(df), Target: o.Target, Platform: o.Platform, Network: o.Network, Backend: backend,
		Args: o.Args, Labels: o.Labels, ExtraHosts: o.ExtraHosts, ShmSize: o.ShmSize, Contexts: map[string]string{}}
	shape.Secrets = slices.Sorted(maps.Keys(o.Secrets)) // ids only: a value must not reach the image, not even hashed
	shape.SSH = slices.Sorted(maps.Keys(o.SSH))
	for name, dir := range o.BuildContexts {
		sub, err := DirContext(dir).WithDockerfileContent([]byte{}).Hash(ctx)
		if err != nil {
			return "", fmt.Errorf("build context %q: %w", name, err)
		}
		shape.Contexts[name] = sub
	}
	for _, img := range baseImages(df) {
		id := "absent"
		if ins, err := c.ImageInspect(ctx, img); err == nil {
			id = ins.ID
		} else if !errors.Is(err, wire.ErrNotFound) {
			return "", err
		}
		shape.Bases = append(shape.Bases, img+"="+id)
	}
	json.NewEncoder(h).Encode(shape)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// baseImages lists the Dockerfile's FROM images that are not stages.
func baseImages(df []byte) []string {
	imgs, _ := fromLines(df)
	return imgs
}

// fromLines reads the Dockerfile's FROM lines: the images that are not
// stages, and the stage names (lower-cased).
func fromLines(df []byte) ([]string, map[string]bool) {
	stages := map[string]bool{}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(df))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || !strings.EqualFold(f[0], "FROM") {
			continue
		}
		args := f[1:]
		for len(args) > 0 && strings.HasPrefix(args[0], "--") {
			args = args[1:]
		}
		if len(args) == 0 {
			continue
		}
		img := args[0]
		if img != "scratch" && !stages[strings.ToLower(img)] {
			out = append(out, img)
		}
		if len(args) >= 3 && strings.EqualFold(args[1], "AS") {
			stages[strings.ToLower(args[2])] = true
		}
	}
	return out, stages
}
