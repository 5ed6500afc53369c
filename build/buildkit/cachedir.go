package buildkit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-go/berth/build"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/link"
	"github.com/berth-go/berth/internal/wire"
)

// The engine's BuildKit (Docker 20.10 and the classic image store) has
// no "local" cache exporter. A cache directory is made of what it does
// have: the image, built with inline cache metadata, saved as a tarball.
// Importing loads it back and names it as a registry cache source, which
// the engine resolves from its own image store.
const (
	cacheTarball = "berth-cache.tar"
	cacheIndex   = "berth-cache.json"
	cacheRepo    = "berth-cache/buildcache"
)

// cacheRef names the image that carries the cache of dir while it is in
// the engine.
func cacheRef(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	sum := sha256.Sum256([]byte(abs))
	return cacheRepo + ":" + hex.EncodeToString(sum[:])[:24]
}

// loadCache loads dir's cache image into the engine and returns its
// reference, or "" when dir holds no cache yet (a first build), and how
// it came to be there, for the build log.
func loadCache(ctx context.Context, c *wire.Client, dir string) (ref, how string, err error) {
	m, err := readIndex(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("cache from %s: %w", dir, err)
	}
	// The image itself is often still in the engine (the builder cache
	// was pruned, not the images): its ID is the digest of its config,
	// inline cache included, so naming it is the same as loading it.
	if ins, err := c.ImageInspect(ctx, m.Image); err == nil && ins.ID == m.Image {
		repo, tag, _ := strings.Cut(m.Ref, ":")
		if err := c.ImageTag(ctx, m.Image, repo, tag); err == nil {
			return m.Ref, "its image is still in the engine", nil
		}
	}
	f, err := os.Open(filepath.Join(dir, cacheTarball))
	if err != nil {
		return "", "", fmt.Errorf("cache from %s: %w", dir, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", "", fmt.Errorf("cache from %s: %w", dir, err)
	}
	if err := c.ImageLoad(ctx, f, nil); err != nil {
		return "", "", fmt.Errorf("cache from %s: load: %w", dir, err)
	}
	return m.Ref, fmt.Sprintf("loaded %s (%.1f MB)", cacheTarball, float64(st.Size())/1e6), nil
}

// saveCache writes the image id, built with inline cache, to dir.
func saveCache(ctx context.Context, c *wire.Client, id, dir string) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("cache to %s: %w", dir, err)
		}
	}()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if savedImage(dir) == id {
		return nil // a rebuild from the directory's own cache: it holds this image already
	}
	// The index goes first and comes back last: a save cut short leaves
	// no index, which reads as an empty cache, not a broken one.
	if err := os.Remove(filepath.Join(dir, cacheIndex)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	ref := cacheRef(dir)
	repo, tag, _ := strings.Cut(ref, ":")
	if err := c.ImageTag(ctx, id, repo, tag); err != nil {
		return err
	}
	defer c.ImageRemove(context.WithoutCancel(ctx), ref, false, false)
	ex := build.Export{Format: build.FormatDocker, Path: filepath.Join(dir, cacheTarball)}
	if err := ex.Write(ctx, link.Wrap(c).(*engine.Client), ref); err != nil {
		return err
	}
	b, _ := json.Marshal(cacheMeta{Ref: ref, Image: id})
	tmp := filepath.Join(dir, cacheIndex+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, cacheIndex))
}

// savedImage is the image ID dir's cache holds, or "" when it holds none
// or only part of one.
func savedImage(dir string) string {
	m, err := readIndex(dir)
	if err != nil {
		return ""
	}
	if st, err := os.Stat(filepath.Join(dir, cacheTarball)); err != nil || st.Size() == 0 {
		return ""
	}
	return m.Image
}

// cacheMeta is a cache directory's index: the image it saved and the
// reference it carries while loaded in the engine.
type cacheMeta struct {
	Ref   string `json:"ref"`
	Image string `json:"image"`
}

// readIndex reads dir's cache index; an error matching fs.ErrNotExist
// means dir holds no cache.
func readIndex(dir string) (cacheMeta, error) {
	var m cacheMeta
	b, err := os.ReadFile(filepath.Join(dir, cacheIndex))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil || !strings.HasPrefix(m.Ref, cacheRepo+":") {
		return m, fmt.Errorf("%s is not berth's (%v); empty the directory", cacheIndex, err)
	}
	return m, nil
}
