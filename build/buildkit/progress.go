package buildkit

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	bk "github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

// progress turns BuildKit's solve status into a plain build log like
// `docker build --progress=plain` prints: "#N step", its output lines as
// they come, and how it ended: DONE, CACHED, CANCELED or ERROR. It keeps
// the last lines for errors.
type progress struct {
	mu     sync.Mutex
	out    io.Writer
	num    map[digest.Digest]int
	vtx    map[digest.Digest]*bk.Vertex // the latest state believed
	said   map[digest.Digest]string     // the outcome last printed
	part   map[digest.Digest]string     // an unterminated output line
	own    map[digest.Digest][]string   // each step's last lines
	tail   []string
	failed digest.Digest
	// standIns are images that stand in for named contexts: the log
	// shows their names instead.
	standIns standIns
}

const (
	tailLines = 30
	// stepLines are the lines of its own a failed step's error keeps,
	// like the docker CLI's summary of a failed step.
	stepLines = 10
)

func newProgress(out io.Writer) *progress {
	return &progress{out: out, num: map[digest.Digest]int{}, vtx: map[digest.Digest]*bk.Vertex{},
		said: map[digest.Digest]string{}, part: map[digest.Digest]string{}, own: map[digest.Digest][]string{}}
}

func (p *progress) write(s string) {
	if p.out != nil {
		io.WriteString(p.out, s+"\n")
	}
	p.tail = append(p.tail, s)
	if len(p.tail) > tailLines {
		p.tail = p.tail[len(p.tail)-tailLines:]
	}
}

// line writes one line of step d.
func (p *progress) line(d digest.Digest, s string) {
	s = p.standIns.restore(s)
	p.write(fmt.Sprintf("#%d %s", p.id(d), s))
	own := append(p.own[d], s)
	if len(own) > stepLines {
		own = own[len(own)-stepLines:]
	}
	p.own[d] = own
}

// id numbers steps in the order they show up, announcing each by name.
func (p *progress) id(d digest.Digest) int {
	n, ok := p.num[d]
	if !ok {
		n = len(p.num) + 1
		p.num[d] = n
		if v := p.vtx[d]; v != nil {
			p.write(fmt.Sprintf("#%d %s", n, v.Name))
		}
	}
	return n
}

func (p *progress) update(st *bk.SolveStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, v := range st.Vertexes {
		if len(p.standIns) > 0 {
			cp := *v
			cp.Name, cp.Error = p.standIns.restore(v.Name), p.standIns.restore(v.Error)
			v = &cp
		}
		prev := p.vtx[v.Digest]
		if guessedCached(v, prev, st.Vertexes) {
			if prev == nil {
				p.vtx[v.Digest] = &bk.Vertex{Digest: v.Digest, Name: v.Name, Inputs: v.Inputs}
			}
			continue
		}
		p.vtx[v.Digest] = v
		if v.Started == nil && !v.Cached {
			continue
		}
		p.id(v.Digest)
		if v.Started != nil && v.Completed == nil {
			continue // running, or loading from the cache
		}
		// A step may start and end more than once (computing its cache
		// key, then running or loading from the cache): its end is
		// printed again only when it says something new.
		word, text := outcome(v)
		if p.said[v.Digest] == word {
			continue
		}
		p.said[v.Digest] = word
		p.flush(v.Digest)
		p.line(v.Digest, text)
		if word == "ERROR" && p.failed == "" {
			p.failed = v.Digest
		}
	}
	for _, l := range st.Logs {
		s := p.part[l.Vertex] + string(l.Data)
		for {
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				break
			}
			p.line(l.Vertex, strings.TrimRight(s[:i], "\r"))
			s = s[i+1:]
		}
		p.part[l.Vertex] = s
	}
	for _, w := range st.Warnings {
		p.line(w.Vertex, "WARNING: "+strings.TrimSpace(string(w.Short)))
	}
}

// guessedCached reports whether v's "cached" is a guess of BuildKit's
// status stream, not a cache hit. When a step starts, the stream ends each
// of its inputs that has not ended yet as cached: right when the step was
// loaded from the cache and made its inputs moot, wrong when the step
// only started to fail at once (a COPY of a missing file fails computing
// its cache key while the RUN before it still runs). That step starts not
// cached, at the very instant the guess names. A step seen running, not
// from the cache, is not cached either. The input's real end, if it ever
// ran, comes later.
func guessedCached(v, prev *bk.Vertex, batch []*bk.Vertex) bool {
	if !v.Cached || v.Completed == nil {
		return false
	}
	if prev != nil && prev.Started != nil && prev.Completed == nil && !prev.Cached {
		return true
	}
	if v.Started == nil || !v.Started.Equal(*v.Completed) {
		return false
	}
	for _, d := range batch {
		if !d.Cached && d.Started != nil && d.Started.Equal(*v.Started) && slices.Contains(d.Inputs, v.Digest) {
			return true
		}
	}
	return false
}

// outcome is how an ended step ended, as the docker CLI words it: a step
// stopped because another failed is CANCELED, not an error of its own.
func outcome(v *bk.Vertex) (word, text string) {
	switch {
	case v.Error != "" && strings.HasSuffix(v.Error, context.Canceled.Error()):
		return "CANCELED", "CANCELED"
	case v.Error != "":
		return "ERROR", "ERROR: " + v.Error
	case v.Cached:
		return "CACHED", "CACHED"
	case v.Started != nil && v.Completed != nil:
		return "DONE", fmt.Sprintf("DONE %.1fs", v.Completed.Sub(*v.Started).Seconds())
	}
	return "DONE", "DONE"
}

// finish ends the steps still open when the solve returned: a failed
// build cancelled them.
func (p *progress) finish(failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var open []digest.Digest
	for d, v := range p.vtx {
		if _, shown := p.num[d]; shown && v.Started != nil && v.Completed == nil {
			open = append(open, d)
		}
	}
	slices.SortFunc(open, func(a, b digest.Digest) int { return p.num[a] - p.num[b] })
	for _, d := range open {
		p.flush(d)
		if failed {
			p.said[d] = "CANCELED"
			p.line(d, "CANCELED")
		}
	}
}

// flush writes a step's unterminated last output line.
func (p *progress) flush(d digest.Digest) {
	if s := p.part[d]; s != "" {
		delete(p.part, d)
		p.line(d, s)
	}
}

// failedStep names the first step that failed, e.g. "[build 2/3] RUN make".
func (p *progress) failedStep() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if v := p.vtx[p.failed]; v != nil {
		return v.Name
	}
	return ""
}

// lines are the last lines of the build log. When a step failed, they
// end with that step's name, its last output lines and its error, as
// steps cancelled by the failure may have printed after it.
func (p *progress) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := append([]string(nil), p.tail...)
	parts := make([]digest.Digest, 0, len(p.part))
	for d, s := range p.part {
		if s != "" {
			parts = append(parts, d)
		}
	}
	slices.SortFunc(parts, func(a, b digest.Digest) int { return p.num[a] - p.num[b] })
	for _, d := range parts {
		out = append(out, fmt.Sprintf("#%d %s", p.num[d], p.part[d]))
	}
	if v := p.vtx[p.failed]; v != nil {
		prefix := fmt.Sprintf("#%d ", p.num[p.failed])
		others := out[:0]
		for _, l := range out {
			if !strings.HasPrefix(l, prefix) {
				others = append(others, l)
			}
		}
		out = append(others, prefix+v.Name)
		for _, l := range p.own[p.failed] {
			out = append(out, prefix+l)
		}
	}
	if len(out) > tailLines {
		out = out[len(out)-tailLines:]
	}
	return out
}
