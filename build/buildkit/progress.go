package buildkit

import (
	"fmt"
	"io"
	"strings"
	"sync"

	bk "github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

// progress turns BuildKit's solve status into a plain build log like
// `docker build --progress=plain` prints: "#N step", its output lines, and
// DONE, CACHED or ERROR. It keeps the last lines for errors.
type progress struct {
	mu     sync.Mutex
	out    io.Writer
	num    map[digest.Digest]int
	vtx    map[digest.Digest]*bk.Vertex
	ended  map[digest.Digest]bool
	part   map[digest.Digest]string
	tail   []string
	failed string
}

const tailLines = 30

func newProgress(out io.Writer) *progress {
	return &progress{out: out, num: map[digest.Digest]int{}, vtx: map[digest.Digest]*bk.Vertex{},
		ended: map[digest.Digest]bool{}, part: map[digest.Digest]string{}}
}

func (p *progress) line(s string) {
	if p.out != nil {
		io.WriteString(p.out, s+"\n")
	}
	p.tail = append(p.tail, s)
	if len(p.tail) > tailLines {
		p.tail = p.tail[len(p.tail)-tailLines:]
	}
}

func (p *progress) id(d digest.Digest) int {
	n, ok := p.num[d]
	if !ok {
		n = len(p.num) + 1
		p.num[d] = n
		if v := p.vtx[d]; v != nil {
			p.line(fmt.Sprintf("#%d %s", n, v.Name))
		}
	}
	return n
}

func (p *progress) update(st *bk.SolveStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, v := range st.Vertexes {
		p.vtx[v.Digest] = v
		if v.Started == nil && !v.Cached {
			continue
		}
		n := p.id(v.Digest)
		if p.ended[v.Digest] {
			continue
		}
		switch {
		case v.Error != "":
			p.flush(v.Digest)
			p.line(fmt.Sprintf("#%d ERROR: %s", n, v.Error))
			p.ended[v.Digest] = true
			if p.failed == "" && !strings.Contains(v.Error, "context canceled") {
				p.failed = v.Name
			}
		case v.Cached:
			p.line(fmt.Sprintf("#%d CACHED", n))
			p.ended[v.Digest] = true
		case v.Completed != nil:
			p.flush(v.Digest)
			p.line(fmt.Sprintf("#%d DONE %.1fs", n, v.Completed.Sub(*v.Started).Seconds()))
			p.ended[v.Digest] = true
		}
	}
	for _, l := range st.Logs {
		n := p.id(l.Vertex)
		s := p.part[l.Vertex] + string(l.Data)
		for {
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				break
			}
			p.line(fmt.Sprintf("#%d %s", n, strings.TrimRight(s[:i], "\r")))
			s = s[i+1:]
		}
		p.part[l.Vertex] = s
	}
	for _, w := range st.Warnings {
		p.line(fmt.Sprintf("#%d WARNING: %s", p.id(w.Vertex), strings.TrimSpace(string(w.Short))))
	}
}

// flush writes a step's unterminated last output line.
func (p *progress) flush(d digest.Digest) {
	if s := p.part[d]; s != "" {
		p.line(fmt.Sprintf("#%d %s", p.num[d], s))
		delete(p.part, d)
	}
}

// failedStep names the first step that failed, e.g. "[build 2/3] RUN make".
func (p *progress) failedStep() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed
}

func (p *progress) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := append([]string(nil), p.tail...)
	for d, s := range p.part {
		if s != "" {
			out = append(out, fmt.Sprintf("#%d %s", p.num[d], s))
		}
	}
	if len(out) > tailLines {
		out = out[len(out)-tailLines:]
	}
	return out
}
