package buildkit

import (
	"bytes"
	"strings"
	"testing"
	"time"

	bk "github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
)

// The status streams below are the shapes Docker Engine 20.10's BuildKit
// sends; TestFailedCopyCancelsRunningStep proves the same on the engine.

var (
	t0       = time.Unix(1700000000, 0)
	fromD    = digest.FromString("from")
	runD     = digest.FromString("run")
	copyD    = digest.FromString("copy")
	fromName = "[1/3] FROM docker.io/library/busybox:1.36"
	runName  = "[2/3] RUN echo building && false"
	copyName = "[3/3] COPY does-not-exist.txt /x"
)

func at(ms int) *time.Time { t := t0.Add(time.Duration(ms) * time.Millisecond); return &t }

func vertex(d digest.Digest, name string, started, completed *time.Time, cached bool, errMsg string, inputs ...digest.Digest) *bk.Vertex {
	return &bk.Vertex{Digest: d, Name: name, Started: started, Completed: completed, Cached: cached, Error: errMsg, Inputs: inputs}
}

func vertexes(vs ...*bk.Vertex) *bk.SolveStatus { return &bk.SolveStatus{Vertexes: vs} }

func logged(d digest.Digest, s string) *bk.SolveStatus {
	return &bk.SolveStatus{Logs: []*bk.VertexLog{{Vertex: d, Data: []byte(s)}}}
}

const canceled = "executor failed running [/bin/sh -c echo building && false]: exit code: 1: context canceled: context canceled"

func TestProgress(t *testing.T) {
	copyFails := vertex(copyD, copyName, at(300), at(300), false, `"/does-not-exist.txt" not found: not found`, runD)
	tests := []struct {
		name   string
		stream []*bk.SolveStatus
		failed bool
		want   string
		step   string
	}{{
		// The COPY fails computing its cache key while the RUN runs; the
		// stream calls the RUN cached, then sends its real end and its
		// output, which comes after.
		name: "running step cancelled by a failure",
		stream: []*bk.SolveStatus{
			vertexes(vertex(fromD, fromName, at(10), at(10), true, "")),
			vertexes(vertex(runD, runName, at(100), nil, false, "", fromD)),
			vertexes(vertex(runD, runName, at(300), at(300), true, "", fromD), copyFails),
			logged(runD, "building\n"),
			vertexes(vertex(runD, runName, at(100), at(320), false, canceled, fromD)),
		},
		failed: true,
		want: `#1 [1/3] FROM docker.io/library/busybox:1.36
#1 CACHED
#2 [2/3] RUN echo building && false
#3 [3/3] COPY does-not-exist.txt /x
#3 ERROR: "/does-not-exist.txt" not found: not found
#2 building
#2 CANCELED
`,
		step: copyName,
	}, {
		name: "running step the stream never ends",
		stream: []*bk.SolveStatus{
			vertexes(vertex(runD, runName, at(100), nil, false, "")),
			vertexes(vertex(runD, runName, at(300), at(300), true, ""), copyFails),
			logged(runD, "partial"),
		},
		failed: true,
		want: `#1 [2/3] RUN echo building && false
#2 [3/3] COPY does-not-exist.txt /x
#2 ERROR: "/does-not-exist.txt" not found: not found
#1 partial
#1 CANCELED
`,
		step: copyName,
	}, {
		// The COPY fails before the RUN starts: the RUN never ran, and
		// is no cache hit either.
		name: "step that never started",
		stream: []*bk.SolveStatus{
			vertexes(vertex(runD, runName, nil, nil, false, "")),
			vertexes(vertex(runD, runName, at(300), at(300), true, ""), copyFails),
		},
		failed: true,
		want: `#1 [3/3] COPY does-not-exist.txt /x
#1 ERROR: "/does-not-exist.txt" not found: not found
`,
		step: copyName,
	}, {
		// A step loaded from the cache makes its inputs moot: those
		// are cached.
		name: "cache hit",
		stream: []*bk.SolveStatus{
			vertexes(vertex(fromD, fromName, nil, nil, false, ""), vertex(runD, runName, nil, nil, false, "", fromD)),
			vertexes(vertex(fromD, fromName, at(50), at(50), true, ""), vertex(runD, runName, at(50), nil, true, "", fromD)),
			vertexes(vertex(runD, runName, at(50), at(60), true, "", fromD)),
		},
		want: `#1 [1/3] FROM docker.io/library/busybox:1.36
#1 CACHED
#2 [2/3] RUN echo building && false
#2 CACHED
`,
	}, {
		// Computing its cache key ends a step too; it is printed again
		// only when it says something new. Output after the end is
		// still printed, with the step's number.
		name: "two rounds and a late log",
		stream: []*bk.SolveStatus{
			vertexes(vertex(runD, runName, at(0), at(10), false, "")),
			vertexes(vertex(runD, runName, at(20), nil, false, "")),
			logged(runD, "one\ntw"),
			vertexes(vertex(runD, runName, at(20), at(2320), false, "")),
			logged(runD, "o\n"),
		},
		want: `#1 [2/3] RUN echo building && false
#1 DONE 0.0s
#1 one
#1 two
`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := newProgress(&out)
			for _, st := range tt.stream {
				p.update(st)
			}
			p.finish(tt.failed)
			assert.Equal(t, tt.want, out.String())
			assert.Equal(t, tt.step, p.failedStep())
		})
	}
}

// The error's last lines are the failed step's, however much the steps it
// cancelled printed after it.
func TestProgressLinesEndWithFailedStep(t *testing.T) {
	p := newProgress(nil)
	p.update(vertexes(vertex(runD, runName, at(0), nil, false, "")))
	p.update(vertexes(vertex(copyD, copyName, at(1), nil, false, "")))
	p.update(logged(copyD, "copying\n"))
	p.update(vertexes(vertex(copyD, copyName, at(1), at(2), false, "disk full")))
	p.update(logged(runD, strings.Repeat("noise\n", 40)))
	p.update(vertexes(vertex(runD, runName, at(0), at(3), false, canceled)))
	lines := p.lines()
	assert.Len(t, lines, tailLines)
	assert.Equal(t, []string{"#2 " + copyName, "#2 copying", "#2 ERROR: disk full"}, lines[len(lines)-3:])
	assert.Equal(t, "#1 CANCELED", lines[len(lines)-4])
	assert.Equal(t, copyName, p.failedStep())
}

// A named context's stand-in image shows as the context's name: in step
// names, their output, errors and the failed step.
func TestProgressShowsContextNames(t *testing.T) {
	const ref = "berth-cache/build:c1f1c1f1c1f1c1f1c1f1c1f1"
	var out bytes.Buffer
	p := newProgress(&out)
	p.standIns = standIns{newStandIn(ref, "shared")}
	fromRef := digest.FromString("from-ref")
	p.update(vertexes(vertex(fromRef, "FROM docker.io/"+ref+"@sha256:"+strings.Repeat("ab", 32), at(0), at(1), false, "")))
	p.update(vertexes(vertex(copyD, "[stage-1 2/3] COPY --from="+ref+" nope.txt /nope.txt", at(2), nil, false, "", fromRef)))
	p.update(logged(copyD, "reading "+ref+"\n"))
	p.update(vertexes(vertex(copyD, "[stage-1 2/3] COPY --from="+ref+" nope.txt /nope.txt", at(2), at(3), false, `"/nope.txt" not found in docker.io/`+ref)))
	p.finish(true)
	assert.Equal(t, `#1 FROM shared
#1 DONE 0.0s
#2 [stage-1 2/3] COPY --from=shared nope.txt /nope.txt
#2 reading shared
#2 ERROR: "/nope.txt" not found in shared
`, out.String())
	assert.Equal(t, "[stage-1 2/3] COPY --from=shared nope.txt /nope.txt", p.failedStep())
	assert.NotContains(t, strings.Join(p.lines(), "\n"), "berth-cache")
	assert.Equal(t, "FROM sharedx", standIns{newStandIn(ref, "shared")}.restore("FROM "+ref+"x"), "only the reference is replaced")
}
