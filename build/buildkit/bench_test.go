package buildkit_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/build"
	"github.com/berth-go/berth/build/buildkit"
	"github.com/berth-go/berth/internal/tests/buildtest"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
)

// BenchmarkBuild compares the backends directly (berth's input-hash reuse
// is bypassed): cold is --no-cache, cached is an unchanged rebuild on a
// warm builder cache, from-cache-dir is a rebuild after the builder cache
// was emptied, with CacheFrom a directory an earlier build filled: with
// the images removed too (a fresh engine: the cache is loaded from the
// directory), and with them kept (the saved image is still there).
func BenchmarkBuild(b *testing.B) {
	c := testenv.Engine(b)
	ctx := context.Background()
	files := map[string][]byte{}
	for name, content := range buildtest.BenchFiles {
		files[name] = []byte(content)
	}
	var ids []string
	b.Cleanup(func() {
		for _, id := range ids {
			c.ImageRemove(context.Background(), id, true, false)
		}
	})
	run := func(b *testing.B, be build.Backend, o build.Options, before func()) {
		for b.Loop() {
			if before != nil {
				b.StopTimer()
				before()
				b.StartTimer()
			}
			id, err := be.Build(ctx, testenv.Public(c), build.FilesContext(files), o)
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, id)
		}
	}
	tag := func(n string) build.Options { return build.Options{Tags: []string{"berth-bench/build:" + n}} }
	for _, be := range []build.Backend{build.Classic, buildkit.Backend} {
		b.Run(be.Name()+"/cold", func(b *testing.B) {
			o := tag(be.Name())
			o.NoCache = true
			run(b, be, o, nil)
		})
		b.Run(be.Name()+"/cached", func(b *testing.B) {
			o := tag(be.Name())
			_, err := be.Build(ctx, testenv.Public(c), build.FilesContext(files), o)
			require.NoError(b, err)
			run(b, be, o, nil)
		})
	}
	dir := filepath.Join(b.TempDir(), "cache")
	prune := func() {
		for _, id := range ids {
			c.ImageRemove(ctx, id, true, false)
		}
		ids = nil
		pruneBenchRecords(b, c)
	}
	b.Run("buildkit/cold-after-prune", func(b *testing.B) {
		run(b, buildkit.Backend, tag("pruned"), prune)
	})
	b.Run("buildkit/from-cache-dir", func(b *testing.B) {
		o := tag("cachedir")
		o.CacheTo = dir
		_, err := buildkit.Backend.Build(ctx, testenv.Public(c), build.FilesContext(files), o)
		require.NoError(b, err)
		o = tag("cachedir")
		o.CacheFrom = dir
		run(b, buildkit.Backend, o, prune)
	})
	// The usual loop: the same directory read and written, and only the
	// builder cache pruned (this build's records, as `docker builder prune
	// -a` would), the images kept.
	b.Run("buildkit/from-cache-dir-images-kept", func(b *testing.B) {
		o := tag("cachedir-kept")
		o.CacheFrom, o.CacheTo = dir, dir
		_, err := buildkit.Backend.Build(ctx, testenv.Public(c), build.FilesContext(files), o)
		require.NoError(b, err)
		run(b, buildkit.Backend, o, func() { pruneBenchRecords(b, c) })
	})
}

// pruneBenchRecords removes the builder cache records of BenchFiles'
// steps (by words no other build has, and the records on top of those),
// children before parents, so the next build runs cold while every other
// user's cache on the engine stays.
func pruneBenchRecords(b *testing.B, c *wire.Client) {
	b.Helper()
	ctx := context.Background()
	steps := []string{"of=/blob bs=1M count=8", "seq 1 50000 > /seq", "COPY /blob /blob", "COPY /seq /seq", "wc -c /blob /seq > /sizes"}
	for range 5 {
		records := buildRecords(b, c)
		ours := map[string]bool{}
		for grew := true; grew; {
			grew = false
			for _, r := range records {
				if !ours[r.ID] && (ours[r.Parent] || slices.ContainsFunc(steps, func(s string) bool { return strings.Contains(r.Description, s) })) {
					ours[r.ID], grew = true, true
				}
			}
		}
		n := 0
		for id := range ours {
			if err := c.BuildCachePrune(ctx, true, wire.Filters{"id": {id}}); err == nil {
				n++
			}
		}
		if n == 0 {
			return
		}
	}
}
