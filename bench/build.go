package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	tcclient "github.com/moby/moby/client"
	dc "github.com/ory/dockertest/v3/docker"
	"github.com/testcontainers/testcontainers-go"

	_ "github.com/berth-go/berth/build/buildkit" // berth builds with BuildKit where the engine offers it
	"github.com/berth-go/berth/internal/tests/buildtest"
	"github.com/berth-go/berth/internal/tests/testenv"
)

// buildFiles is the build berth's own benchmarks time, with the bench's
// label on every stage: the classic builder leaves each cold build's
// earlier stages behind as untagged images, which the label finds.
var buildFiles = labelStages(buildtest.BenchFiles)

func labelStages(files map[string]string) map[string]string {
	out := make(map[string]string, len(files))
	for name, content := range files {
		out[name] = content
	}
	var df strings.Builder
	for line := range strings.Lines(files["Dockerfile"]) {
		df.WriteString(line)
		if strings.HasPrefix(line, "FROM ") {
			fmt.Fprintf(&df, "LABEL bench.run=%s\n", sessionLabel)
		}
	}
	out["Dockerfile"] = df.String()
	return out
}

// buildDir writes buildFiles to a directory for the libraries that build
// from one.
func buildDir() string {
	dir, err := os.MkdirTemp("", "berth-bench-build-")
	if err != nil {
		panic(err)
	}
	if err := testenv.WriteTree(dir, buildFiles); err != nil {
		panic(err)
	}
	return dir
}

func buildTar() []byte {
	b, err := testenv.FilesTar(buildFiles, 0o644)
	if err != nil {
		panic(err)
	}
	return b
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

// removeBenchImages removes the images with this run's label; only the
// untagged ones (the stages a classic build left) when untagged is set.
func (r *rawClient) removeBenchImages(untagged bool) {
	f := `{"label":["bench.run=` + sessionLabel + `"]`
	if untagged {
		f += `,"dangling":["true"]`
	}
	var imgs []struct{ Id string }
	r.call("GET", "/images/json?filters="+url.QueryEscape(f+"}"), nil, &imgs)
	for _, img := range imgs {
		r.removeImage(img.Id)
	}
}

// buildScenarios: a cold build (no cache) and an unchanged rebuild, each
// library its documented way. berth's cold build is BuildKit's; its
// unchanged rebuild is its input-hash reuse.
func buildScenarios(e *env) []scenario {
	dir := buildDir()
	ctxTar := buildTar()
	tag := func(who string) string { return "berth-bench/build-" + who + ":" + sessionLabel }
	contenders := func(nocache bool) []contender {
		// A cold build makes a new image every round, and the next round's
		// tag would leave the last one untagged on the engine (a 5-round
		// run once left 44 behind): it goes when its round ends. An
		// unchanged rebuild makes the same image, which stays as its cache.
		done := func(who string) func() {
			if !nocache {
				return func() {}
			}
			return func() {
				e.raw.removeImage(tag(who))
				e.raw.removeBenchImages(true)
			}
		}
		return []contender{
			{"raw", func(ctx context.Context) (time.Duration, func(), error) {
				return timed(func() (func(), error) {
					return done("raw"), e.raw.build(ctx, ctxTar, tag("raw"), nocache)
				})
			}},
			{"berth", func(ctx context.Context) (time.Duration, func(), error) {
				b := e.s.Build(dir).Tag(tag("berth"))
				if nocache {
					b = b.NoCache()
				}
				return timed(func() (func(), error) {
					_, err := b.ImageE(ctx)
					return done("berth"), err
				})
			}},
			{"testcontainers-go", func(ctx context.Context) (time.Duration, func(), error) {
				p, err := testcontainers.NewDockerProvider()
				if err != nil {
					return 0, nil, err
				}
				req := testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
					Context: dir, Repo: "berth-bench/build-tc", Tag: sessionLabel, KeepImage: true, // tag("tc")
					BuildOptionsModifier: func(o *tcclient.ImageBuildOptions) { o.NoCache = nocache },
				}}
				return timed(func() (func(), error) {
					_, err := p.BuildImage(ctx, &req)
					return func() { p.Close(); done("tc")() }, err
				})
			}},
			{"dockertest", func(ctx context.Context) (time.Duration, func(), error) {
				return timed(func() (func(), error) {
					return done("dockertest"), e.pool.Client.BuildImage(dc.BuildImageOptions{
						Context: ctx, Name: tag("dockertest"), ContextDir: dir, Dockerfile: "Dockerfile",
						OutputStream: io.Discard, NoCache: nocache, RmTmpContainer: true,
					})
				})
			}},
		}
	}
	cleanup := func() {
		for _, who := range []string{"raw", "berth", "tc", "dockertest"} {
			e.raw.removeImage(tag(who))
		}
		e.raw.removeBenchImages(false)
		os.RemoveAll(dir)
	}
	e.cleanups = append(e.cleanups, cleanup)
	return []scenario{
		{name: "Dockerfile build, cold (no cache)", goal: "BuildKit ≤ 0.6× classic", contenders: contenders(true)},
		{name: "Dockerfile build, unchanged context", goal: "≤ 20 ms", contenders: warmedUp(contenders(false))},
	}
}

// warmedUp runs each contender once, unmeasured, before its first measured
// round: the cold rounds removed what they built, and an unchanged rebuild
// needs a build to be unchanged from.
func warmedUp(cs []contender) []contender {
	for i := range cs {
		run, once := cs[i].run, new(sync.Once)
		cs[i].run = func(ctx context.Context) (time.Duration, func(), error) {
			var err error
			once.Do(func() {
				var cleanup func()
				_, cleanup, err = run(ctx)
				if cleanup != nil {
					cleanup()
				}
			})
			if err != nil {
				return 0, nil, err
			}
			return run(ctx)
		}
	}
	return cs
}
