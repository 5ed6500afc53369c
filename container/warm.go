package container

import (
	"archive/tar"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/flock"
	"github.com/berth-go/berth/internal/wire"
)

// CacheRepo prefixes every warm-start cache image name.
const CacheRepo = "berth-cache/"

// Warm makes Run start from an image of the container's initialized state.
// The first run with given inputs starts the container, waits, runs Setup,
// stops it cleanly and commits it as an image under berth-cache/ labelled
// with a hash of every input; later runs with the same hash start from that
// image directly. With RunOptions.Later (as berth's harness gives) that
// first run instead starts the caller's container cold, Setup included,
// and fills the cache from a second container in the background, so it
// waits no longer than a cold start; Setup then runs once in each.
//
// The fill stops the container cleanly before the commit: the image's stop
// signal, then SIGKILL once the spec's StopTimeout has passed (30 s when it
// is not set). A clean stop is what makes the committed state consistent:
// a database flushes and checkpoints on it, and a killed one leaves a state
// that needs crash recovery, or is torn. A PID 1 that ignores SIGTERM (a
// bare `sleep`, a shell without a trap) costs the whole stop timeout, once
// per distinct hash, since later runs start from the image: set a short
// StopTimeout for such a container, and one long enough for a database's
// shutdown.
//
// Data the image keeps in a VOLUME is not captured by a commit: point such
// data at a path that is not a declared volume.
type Warm struct {
	// Keys are extra inputs of the hash (a schema version, a migration
	// checksum).
	Keys []string
	// Setup runs against the started container before the commit, e.g.
	// migrations. A failing setup leaves no cache image.
	Setup func(ctx context.Context, c *Container) error
}

// warmStopTimeout is the grace of the fill's stop when the spec sets no
// StopTimeout: the spec's 0 means kill at once, which would commit a
// database's state mid-write.
const warmStopTimeout = 30 * time.Second

// WarmResult says how a warm run went.
type WarmResult struct {
	Hash  string
	Image string // the cache image reference
	Hit   bool   // started from an existing cache image

	fill *fillState // the cache fill still running, if any
}

// Filled waits until the cache image of a start that missed is made, and
// returns the fill's error. With RunOptions.Later a miss starts the
// container cold and fills the cache in the background; without it (and
// on a hit) the image is there already and Filled returns nil at once.
func (r *WarmResult) Filled(ctx context.Context) error {
	if r == nil || r.fill == nil {
		return nil
	}
	select {
	case <-r.fill.done:
		return r.fill.err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// fillState is one background fill of a cache image.
type fillState struct {
	done chan struct{}
	err  error
}

// fills are the background fills of this process by cache reference: a
// second miss of the same inputs waits for the first one's fill instead
// of making another.
var (
	fillsMu sync.Mutex
	fills   = map[string]*fillState{}
)

// CacheRef returns the cache image reference for an image and input hash.
func CacheRef(image, hash string) string {
	name := image
	if i := strings.LastIndex(name, "@"); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	name = strings.NewReplacer(":", "-", ".", "-").Replace(name)
	return CacheRepo + name + ":" + hash[:24]
}

// WarmHash hashes every input that shapes the initialized state: the base
// image ID, the container config, the content of files copied in, mounts
// that are not tmpfs and the caller's keys.
func WarmHash(ctx context.Context, c *engine.Client, spec Spec, keys []string) (string, string, error) {
	return warmHash(ctx, wireOf(c), spec, keys)
}

func warmHash(ctx context.Context, c *wire.Client, spec Spec, keys []string) (string, string, error) {
	img, err := c.ImageInspect(ctx, spec.Image)
	if err != nil {
		return "", "", fmt.Errorf("warm start: inspect base image %s: %w", ShortImage(spec.Image), err)
	}
	h := sha256.New()
	enc := json.NewEncoder(h)
	enc.Encode(img.ID)
	enc.Encode(sortedEnv(spec.Env))
	enc.Encode([]any{spec.Cmd, spec.Entrypoint, spec.User, spec.WorkDir, spec.Hostname})
	for _, m := range spec.Mounts {
		if m.Type != MountTmpfs {
			enc.Encode(m)
		}
	}
	enc.Encode(keys)
	for _, f := range spec.Files {
		enc.Encode([]any{f.Target, f.Mode})
		if f.HostPath == "" {
			h.Write(f.Content)
			continue
		}
		// Every entry as it would be copied in: header fields, content.
		err := walkFile(File{HostPath: f.HostPath, Target: f.Target, Mode: f.Mode}, func(e *tar.Header, open func() (io.ReadCloser, error)) error {
			enc.Encode([]any{e.Name, e.Mode, e.Linkname, e.Size})
			return copyContent(h, open)
		})
		if err != nil {
			return "", "", fmt.Errorf("warm start: hash %s: %w", f.HostPath, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), img.ID, nil
}

// RunWarm runs spec from its warm-start cache image, filling the cache first
// when there is none.
func RunWarm(ctx context.Context, c *engine.Client, spec Spec, opts RunOptions, w Warm) (*Container, WarmResult, error) {
	return runWarm(ctx, wireOf(c), spec, opts, w)
}

func runWarm(ctx context.Context, c *wire.Client, spec Spec, opts RunOptions, w Warm) (*Container, WarmResult, error) {
	if err := spec.Validate(); err != nil {
		return nil, WarmResult{}, err
	}
	if spec.Pull == PullAlways {
		if err := ensureImage(ctx, c, spec.Image, spec.Pull, spec.Platform, opts.Keychain); err != nil {
			return nil, WarmResult{}, err
		}
	}
	// WarmHash inspects the base image: only a missing one costs another
	// look.
	hash, baseID, err := warmHash(ctx, c, spec, w.Keys)
	if errors.Is(err, wire.ErrNotFound) && spec.Pull != PullAlways {
		if err := pullMissing(ctx, c, spec.Image, spec.Pull, spec.Platform, opts.Keychain); err != nil {
			return nil, WarmResult{}, err
		}
		hash, baseID, err = warmHash(ctx, c, spec, w.Keys)
	}
	if err != nil {
		return nil, WarmResult{}, err
	}
	ref := CacheRef(spec.Image, hash)
	res := WarmResult{Hash: hash, Image: ref}
	if img, err := c.ImageInspect(ctx, ref); err == nil {
		if isCacheOf(img, hash) {
			hot := spec
			hot.Image, hot.Files, hot.Pull = ref, nil, PullNever
			ctr, err := run(ctx, c, hot, opts)
			if err == nil {
				res.Hit = true
				return ctr, res, nil
			}
			return nil, res, fmt.Errorf("warm start from %s: %w", ref, err)
		}
		// Not ours or half-made: replace it.
		c.ImageRemove(ctx, ref, true, false)
	} else if !errors.Is(err, wire.ErrNotFound) {
		return nil, res, err
	}
	if opts.Later != nil {
		ctr, err := runCold(ctx, c, spec, opts, w)
		if err != nil {
			return nil, res, err
		}
		res.fill = fillLater(c, spec, opts.Later, w, hash, baseID, ref)
		return ctr, res, nil
	}
	ctr, err := fill(ctx, c, spec, opts, w, hash, baseID, ref)
	return ctr, res, err
}

// runCold starts the caller's container as a start without Warm would,
// setup included.
func runCold(ctx context.Context, c *wire.Client, spec Spec, opts RunOptions, w Warm) (*Container, error) {
	ctr, err := run(ctx, c, spec, opts)
	if err != nil {
		return nil, err
	}
	if w.Setup != nil {
		if err := w.Setup(ctx, ctr); err != nil {
			ctr.removeAfterFailure()
			return nil, &StartError{Image: spec.Image, ID: ctr.id, Step: "warm start: setup", Err: err}
		}
	}
	return ctr, nil
}

// fillLater fills the cache image in a container of its own, through
// later, unless a fill of the same image runs in this process already.
// The fill's container joins no network and publishes its ports on
// random host ports, so it is never mistaken for the caller's container
// (an alias, a fixed port, a name).
func fillLater(c *wire.Client, spec Spec, later func(func(context.Context, RunOptions)), w Warm, hash, baseID, ref string) *fillState {
	fillsMu.Lock()
	defer fillsMu.Unlock()
	if st := fills[ref]; st != nil {
		return st
	}
	st := &fillState{done: make(chan struct{})}
	fills[ref] = st
	spec.Name, spec.Reuse, spec.Networks = "", false, nil
	ports := make([]string, 0, len(spec.Ports))
	for _, p := range spec.Ports {
		if ps, err := ParsePort(p); err == nil {
			ports = append(ports, ps.Key())
		}
	}
	spec.Ports = ports
	later(func(ctx context.Context, opts RunOptions) {
		err := fillOnce(ctx, c, spec, opts, w, hash, baseID, ref)
		fillsMu.Lock()
		delete(fills, ref)
		fillsMu.Unlock()
		st.err = err
		close(st.done)
	})
	return st
}

// fill starts the container cold, runs setup, commits it under a temporary
// tag and then moves the final tag onto it; a concurrent filler that got
// there first wins and this image is dropped.
func fill(ctx context.Context, c *wire.Client, spec Spec, opts RunOptions, w Warm, hash, baseID, ref string) (*Container, error) {
	if err := fillOnce(ctx, c, spec, opts, w, hash, baseID, ref); err != nil {
		return nil, err
	}
	// Start the caller's container from the cache like every later run, so
	// log-based waits see one fresh log.
	hot := spec
	hot.Image, hot.Files, hot.Pull = ref, nil, PullNever
	return run(ctx, c, hot, opts)
}

// fillOnce fills the cache image ref unless another process on this
// machine fills it meanwhile: the test binaries of a run that miss at once
// take a lock file by engine and reference, and those that waited find the
// image made. (On Windows, without the lock, each fills; the first tag
// wins.)
func fillOnce(ctx context.Context, c *wire.Client, spec Spec, opts RunOptions, w Warm, hash, baseID, ref string) error {
	sum := sha256.Sum256([]byte(c.Endpoint().Host + "\x00" + ref))
	path := filepath.Join(os.TempDir(), "berth-fill-"+hex.EncodeToString(sum[:8])+".lock")
	unlock, err := flock.Lock(ctx, path, "another test binary is filling "+ref)
	if err != nil {
		return fmt.Errorf("warm start: %w", err)
	}
	defer unlock()
	if img, err := c.ImageInspect(ctx, ref); err == nil && isCacheOf(img, hash) {
		return nil
	}
	return fillImage(ctx, c, spec, opts, w, hash, baseID, ref)
}

// isCacheOf tells whether img is the complete cache image of inputs hash:
// one with another label is not ours or half-made.
func isCacheOf(img *wire.ImageInspect, hash string) bool {
	return img.Config != nil && img.Config.Labels[engine.LabelCache] == hash
}

// fillImage starts the container cold, runs setup, stops it cleanly and
// commits it as the cache image ref; the container is removed.
func fillImage(ctx context.Context, c *wire.Client, spec Spec, opts RunOptions, w Warm, hash, baseID, ref string) error {
	ctr, err := run(ctx, c, spec, opts)
	if err != nil {
		return err
	}
	fail := func(step string, err error) error {
		ctr.removeAfterFailure()
		return &StartError{Image: spec.Image, ID: ctr.id, Step: "warm start: " + step, Err: err}
	}
	if w.Setup != nil {
		if err := w.Setup(ctx, ctr); err != nil {
			return fail("setup", err)
		}
	}
	// A clean stop (the image's stop signal) so the state on disk is
	// consistent.
	stop := warmStopTimeout
	if spec.StopTimeout > 0 {
		stop = spec.StopTimeout
	}
	if err := c.ContainerStop(ctx, ctr.id, secs(stop)); err != nil {
		return fail("stop", err)
	}
	tmp := ref + "-tmp-" + randomSuffix()
	repo, tmpTag, _ := strings.Cut(tmp[len(CacheRepo):], ":")
	// LABEL changes, not a config body: Podman ignores the body's labels.
	// The committed image would inherit the container's session labels;
	// blank them so session sweeps never take the cache.
	changes := []string{
		fmt.Sprintf("LABEL %s=%q", engine.LabelCache, hash),
		fmt.Sprintf("LABEL %s=%q", engine.LabelCacheBase, baseID),
	}
	for _, k := range slices.Sorted(maps.Keys(opts.Labels)) {
		changes = append(changes, fmt.Sprintf("LABEL %s=%q", k, ""))
	}
	if _, err := c.ContainerCommit(ctx, ctr.id, wire.CommitOptions{Repo: CacheRepo + repo, Tag: tmpTag, Changes: changes}); err != nil {
		return fail("commit", err)
	}
	finalRepo, finalTag, _ := strings.Cut(ref, ":")
	if _, err := c.ImageInspect(ctx, ref); errors.Is(err, wire.ErrNotFound) {
		if err := c.ImageTag(ctx, tmp, finalRepo, finalTag); err != nil {
			c.ImageRemove(ctx, tmp, true, false)
			return fail("tag", err)
		}
	}
	// Drop the temporary tag; when another filler won, this removes our
	// image too.
	c.ImageRemove(ctx, tmp, false, false)
	ctr.removeAfterFailure()
	return nil
}

func randomSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
