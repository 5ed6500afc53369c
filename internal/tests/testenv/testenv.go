// Package testenv holds what the repository's engine tests share for the
// images they make: built images and warm-start cache images, removed when
// the test ends, in the order the harness needs.
//
// The harness removes a test's containers in a t.Cleanup registered by
// berth.New. Cleanups run last-registered-first, so a helper here that is
// called before berth.New removes its images after those containers are
// gone: the images then really go instead of losing only a tag, or failing
// because a container still uses them.
//
// Of berth it imports only engine and the protocol below it (internal/wire,
// internal/link), so the tests of every package above engine can use it.
package testenv

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/link"
	"github.com/berth-go/berth/internal/wire"
)

// cleanupTimeout bounds the removals of one test: t.Context() is already
// cancelled when cleanups run.
const cleanupTimeout = 30 * time.Second

// Engine returns the protocol client of the environment's engine (the
// one behind Client), closed when the test ends. It fails the test when no
// engine is configured.
func Engine(t testing.TB) *wire.Client {
	t.Helper()
	return Wire(Client(t))
}

// RemoveImages returns track, which records an image (an ID or a
// reference) the test made. When the test ends every tracked image is
// force-removed, the last tracked first (a child before its parent); a
// removal that fails for another reason than the image being gone already
// fails the test. Call RemoveImages before berth.New (see the package
// doc). track is safe for concurrent use.
func RemoveImages(t testing.TB) (track func(image string)) {
	t.Helper()
	c := Engine(t)
	var mu sync.Mutex
	var images []string
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		mu.Lock()
		defer mu.Unlock()
		for i := len(images) - 1; i >= 0; i-- {
			err := c.ImageRemove(ctx, images[i], true, false)
			if err != nil && !errors.Is(err, wire.ErrNotFound) {
				t.Errorf("remove test image %s: %v", images[i], err)
			}
		}
	})
	return func(image string) {
		mu.Lock()
		images = append(images, image)
		mu.Unlock()
	}
}

var buildSeq atomic.Int64

// Build builds an image from a tar build context with the engine's classic
// builder and returns its ID; query adds build parameters ("t" tags it,
// "dockerfile" names the Dockerfile). A built image is removed when the
// test ends, like one tracked by RemoveImages: call Build before
// berth.New.
func Build(t testing.TB, c *wire.Client, buildContext io.Reader, query url.Values) (string, error) {
	t.Helper()
	q := url.Values{"rm": {"1"}, "forcerm": {"1"}}
	// A label of this build's own: the same files built by another test,
	// or by another suite on the engine, make a different image, so
	// removing this one at cleanup never meets their containers.
	q.Set("labels", fmt.Sprintf(`{"berth.testenv.build":"%d-%d"}`, os.Getpid(), buildSeq.Add(1)))
	for k, vs := range query {
		q[k] = vs
	}
	var id string
	err := c.ImageBuild(t.Context(), buildContext, q, "", func(m wire.JSONMessage) error {
		var aux struct{ ID string }
		if len(m.Aux) > 0 && wire.DecodeAux(m, &aux) == nil && aux.ID != "" {
			id = aux.ID
		}
		return nil
	})
	if id != "" {
		RemoveImages(t)(id)
	}
	if err == nil && id == "" {
		err = errors.New("the build reported no image ID")
	}
	return id, err
}

// BuildFiles builds an image from files (their names relative to the
// context root, a Dockerfile among them; all written executable, so
// scripts can run) and returns its ID; a failed build fails the test. The
// image is removed when the test ends: call BuildFiles before berth.New.
func BuildFiles(t testing.TB, c *wire.Client, files map[string]string, query url.Values) string {
	t.Helper()
	tarball, err := FilesTar(files, 0o755)
	if err != nil {
		t.Fatalf("build context: %v", err)
	}
	// The builder can lose a race with another client's image removal
	// (wire.IsBuildCacheRace); build.Classic retries the same way.
	for attempt := 1; ; attempt++ {
		id, err := Build(t, c, bytes.NewReader(tarball), query)
		if err == nil {
			return id
		}
		if attempt == 3 || !wire.IsBuildCacheRace(err) {
			t.Fatalf("build: %v", err)
		}
	}
}

// FilesTar is a tar of files (slash-separated names → content), each a
// regular file of the given mode, in sorted order.
func FilesTar(files map[string]string, mode int64) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(files[name]))}); err != nil {
			return nil, err
		}
		if _, err := io.WriteString(tw, files[name]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Unique is a string no other test or run has: the test's name and the
// time. A build input or a cache key with it in is never found in a cache
// an earlier run left.
func Unique(t testing.TB) string {
	return fmt.Sprintf("%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
}

// TarEntry is one entry of a tar stream: its header and its content.
type TarEntry struct {
	Header  *tar.Header
	Content []byte
}

// ReadTar reads the tar stream r to its end and returns its entries by
// name; a broken stream fails the test.
func ReadTar(t testing.TB, r io.Reader) map[string]TarEntry {
	t.Helper()
	entries := map[string]TarEntry{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries
		}
		if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read tar entry %s: %v", h.Name, err)
		}
		entries[h.Name] = TarEntry{Header: h, Content: b}
	}
}

// WriteTree writes files (slash-separated names → content) under dir.
func WriteTree(dir string, files map[string]string) error {
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Tree writes files (slash-separated names → content) to a new temporary
// directory and returns it.
func Tree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := WriteTree(dir, files); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Client returns the public engine client of the environment's engine,
// closed when the test ends.
func Client(t testing.TB) *engine.Client {
	t.Helper()
	c, err := engine.New()
	if err != nil {
		t.Fatalf("engine client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Wire is the protocol client behind c, for tests of what the public
// client does not offer.
func Wire(c *engine.Client) *wire.Client { return link.Wire(c) }

// Public is the public engine client of w.
func Public(w *wire.Client) *engine.Client { return link.Wrap(w).(*engine.Client) }

// Left lists what is still on the engine of one test of one session (both
// labels), of the given kinds (all kinds when none are given). It is the
// leftover check of the engine tests: a test ends with nothing of its own
// left, whatever other suites on the same engine hold.
func Left(t testing.TB, c *engine.Client, session, test string, kinds ...engine.Kind) []engine.Resource {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	rs, err := c.List(ctx, engine.Labelled(engine.SessionSelector(session), engine.LabelTest+"="+test))
	if err != nil {
		t.Fatalf("list leftovers: %v", err)
	}
	if len(kinds) == 0 {
		return rs
	}
	var out []engine.Resource
	for _, r := range rs {
		if slices.Contains(kinds, r.Kind) {
			out = append(out, r)
		}
	}
	return out
}
