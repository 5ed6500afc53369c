package build

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// ParseDockerignore reads .dockerignore patterns: one per line, `#`
// comments and blank lines skipped, surrounding space trimmed, a leading
// `/` dropped, paths cleaned. A leading `!` marks an exception.
func ParseDockerignore(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		neg := strings.HasPrefix(line, "!")
		if neg {
			line = strings.TrimSpace(line[1:])
		}
		line = cleanPattern(line)
		if line == "" {
			continue
		}
		if neg {
			line = "!" + line
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read .dockerignore: %w", err)
	}
	return out, nil
}

func cleanPattern(p string) string {
	p = filepath.ToSlash(p)
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "." {
		return ""
	}
	return p
}

// Matcher decides which context paths .dockerignore excludes, with the
// docker CLI's rules: patterns are matched against the slash-separated path
// relative to the context root, in order, the last match wins; `*` and `?`
// stay within one path element, `**` spans any number of them, `[...]` is a
// class; a pattern that matches a directory also excludes everything in it;
// `!pattern` re-includes.
type Matcher struct {
	patterns []pattern
}

type pattern struct {
	text    string
	re      *regexp.Regexp
	exclude bool   // false for a `!` exception
	prefix  string // literal leading part, for descending decisions
}

// NewMatcher compiles patterns as ParseDockerignore returns them.
func NewMatcher(patterns []string) (*Matcher, error) {
	m := &Matcher{}
	for _, p := range patterns {
		exclude := true
		if strings.HasPrefix(p, "!") {
			exclude, p = false, p[1:]
		}
		p = cleanPattern(p)
		if p == "" {
			continue
		}
		re, err := compilePattern(p)
		if err != nil {
			return nil, fmt.Errorf(".dockerignore pattern %q: %w", p, err)
		}
		m.patterns = append(m.patterns, pattern{text: p, re: re, exclude: exclude, prefix: literalPrefix(p)})
	}
	return m, nil
}

// compilePattern turns a pattern into an anchored regexp.
func compilePattern(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '*':
			if i+1 < len(p) && p[i+1] == '*' {
				i++
				// "**/" matches zero or more directories; a trailing or
				// inner "**" matches anything.
				if i+1 < len(p) && p[i+1] == '/' {
					i++
					b.WriteString("(?:.*/)?")
				} else {
					b.WriteString(".*")
				}
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			end := strings.IndexByte(p[i+1:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [")
			}
			class := p[i+1 : i+1+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += end + 1
		case '\\':
			if i+1 < len(p) {
				i++
				b.WriteString(regexp.QuoteMeta(string(p[i])))
			} else {
				b.WriteString(`\\`)
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

func literalPrefix(p string) string {
	if i := strings.IndexAny(p, "*?[\\"); i >= 0 {
		return p[:i]
	}
	return p
}

// Excluded reports whether the context path rel (slash-separated, relative
// to the root) is excluded. A path is matched itself and through each of
// its parent directories.
func (m *Matcher) Excluded(rel string) bool {
	if m == nil || len(m.patterns) == 0 {
		return false
	}
	rel = cleanPattern(rel)
	excluded := false
	for _, p := range m.patterns {
		if p.matchesOrParent(rel) {
			excluded = p.exclude
		}
	}
	return excluded
}

func (p pattern) matchesOrParent(rel string) bool {
	if p.re.MatchString(rel) {
		return true
	}
	for dir := path.Dir(rel); dir != "." && dir != "/"; dir = path.Dir(dir) {
		if p.re.MatchString(dir) {
			return true
		}
	}
	return false
}

// mayIncludeInside reports whether an exception could re-include something
// below the excluded directory dir, so a walker must descend into it.
func (m *Matcher) mayIncludeInside(dir string) bool {
	for _, p := range m.patterns {
		if p.exclude {
			continue
		}
		if strings.HasPrefix(p.text, "**") || p.prefix == "" {
			return true
		}
		// The exception's literal start and the directory must agree on
		// their common part.
		if strings.HasPrefix(p.prefix, dir+"/") || strings.HasPrefix(dir+"/", p.prefix) || strings.HasPrefix(p.prefix, dir) {
			return true
		}
	}
	return false
}
