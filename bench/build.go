package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"time"

	tcclient "github.com/moby/moby/client"
	dc "github.com/ory/dockertest/v3/docker"
	"github.com/testcontainers/testcontainers-go"

	_ "github.com/berth-go/berth/build/buildkit" // berth builds with BuildKit where the engine offers it
	"github.com/berth-go/berth/internal/testkit/buildtest"
)

// buildFiles is the build berth's own benchmarks time.
var buildFiles = buildtest.BenchFiles

// buildDir writes buildFiles to a directory for the libraries that build
// from one.
func buildDir() string {
	dir, err := os.MkdirTemp("", "berth-bench-build-")
	if err != nil {
		panic(err)
	}
	for name, content := range buildFiles {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			panic(err)
		}
	}
	return dir
}

func buildTar() []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	names := make([]string, 0, len(buildFiles))
	for n := range buildFiles {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(buildFiles[n])), Typeflag: tar.TypeReg})
		tw.Write([]byte(buildFiles[n]))
	}
	tw.Close()
	return b.Bytes()
}

// rawBuild is POST /build with the context as a tar: the classic builder,
// as plain Engine API calls use it.
func (r *rawClient) build(ctx context.Context, ctxTar []byte, tag string, nocache bool) error {
	q := url.Values{"t": {tag}, "rm": {"1"}, "forcerm": {"1"}}
	if nocache {
		q.Set("nocache", "1")
	}
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://docker/v1.41/build?"+q.Encode(), bytes.NewReader(ctxTar))
	req.Header.Set("Content-Type", "application/x-tar")
	resp, err := r.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("build: %d %s", resp.StatusCode, b)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var m struct{ Error string }
		if json.Unmarshal(sc.Bytes(), &m) == nil && m.Error != "" {
			return fmt.Errorf("build: %s", m.Error)
		}
	}
	return sc.Err()
}

func (r *rawClient) removeImage(ref string) {
	r.call("DELETE", "/images/"+url.PathEscape(ref)+"?force=1", nil, nil)
}

// buildScenarios: a cold build (no cache) and an unchanged rebuild, each
// library its documented way. berth's cold build is BuildKit's; its
// unchanged rebuild is its input-hash reuse.
func buildScenarios(e *env) []scenario {
	dir := buildDir()
	ctxTar := buildTar()
	tag := func(who string) string { return "berth-bench/build-" + who + ":" + sessionLabel }
	contenders := func(nocache bool) []contender {
		return []contender{
			{"raw", func(ctx context.Context) (time.Duration, func(), error) {
				return timed(func() (func(), error) {
					return func() {}, e.raw.build(ctx, ctxTar, tag("raw"), nocache)
				})
			}},
			{"berth", func(ctx context.Context) (time.Duration, func(), error) {
				b := e.s.Build(dir).Tag(tag("berth"))
				if nocache {
					b = b.NoCache()
				}
				return timed(func() (func(), error) {
					_, err := b.ImageE(ctx)
					return func() {}, err
				})
			}},
			{"testcontainers-go", func(ctx context.Context) (time.Duration, func(), error) {
				p, err := testcontainers.NewDockerProvider()
				if err != nil {
					return 0, nil, err
				}
				req := testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
					Context: dir, Repo: "berth-bench/build-tc", Tag: sessionLabel, KeepImage: true,
					BuildOptionsModifier: func(o *tcclient.ImageBuildOptions) { o.NoCache = nocache },
				}}
				return timed(func() (func(), error) {
					_, err := p.BuildImage(ctx, &req)
					return func() { p.Close() }, err
				})
			}},
			{"dockertest", func(ctx context.Context) (time.Duration, func(), error) {
				return timed(func() (func(), error) {
					return func() {}, e.pool.Client.BuildImage(dc.BuildImageOptions{
						Context: ctx, Name: tag("dockertest"), ContextDir: dir, Dockerfile: "Dockerfile",
						OutputStream: io.Discard, NoCache: nocache, RmTmpContainer: true,
					})
				})
			}},
		}
	}
	cleanup := func() {
		for _, who := range []string{"raw", "berth", "dockertest"} {
			e.raw.removeImage(tag(who))
		}
		e.raw.removeImage("berth-bench/build-tc:" + sessionLabel)
		os.RemoveAll(dir)
	}
	e.cleanups = append(e.cleanups, cleanup)
	return []scenario{
		{name: "Dockerfile build, cold (no cache)", goal: "BuildKit ≤ 0.6× classic", contenders: contenders(true)},
		{name: "Dockerfile build, unchanged context", goal: "≤ 20 ms", contenders: contenders(false)},
	}
}
