// Package build turns a directory or in-memory files into a build context
// and an image: the context tar honours .dockerignore like the docker CLI,
// and the classic /build backend (and, with build/buildkit imported,
// BuildKit) make the image.
package build

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ErrContextNotFound says the context directory does not exist.
var ErrContextNotFound = errors.New("build context not found")

// ErrDockerfileNotFound says the Dockerfile is not in the context.
var ErrDockerfileNotFound = errors.New("Dockerfile not found")

// DefaultDockerfile is the Dockerfile name looked up in a context.
const DefaultDockerfile = "Dockerfile"

// inlineDockerfile is the name an inline Dockerfile gets in the tar.
const inlineDockerfile = ".berth.Dockerfile"

// Context is the input of a build: a directory or in-memory files, and a
// Dockerfile (a name in the context or inline content).
type Context struct {
	dir        string
	files      map[string]memFile
	dockerfile string
	inline     []byte
	// onVisit, in tests, sees every path the directory walk looks at.
	onVisit func(rel string)
}

type memFile struct {
	data []byte
	mode fs.FileMode
}

// DirContext is the directory dir.
func DirContext(dir string) *Context { return &Context{dir: dir, dockerfile: DefaultDockerfile} }

// FilesContext is a context of in-memory files, keyed by slash-separated
// path (mode 0644).
func FilesContext(files map[string][]byte) *Context {
	c := &Context{files: map[string]memFile{}, dockerfile: DefaultDockerfile}
	for name, data := range files {
		c.files[cleanPattern(name)] = memFile{data: data, mode: 0o644}
	}
	return c
}

// WithMode sets the mode of an in-memory file.
func (c *Context) WithMode(name string, mode fs.FileMode) *Context {
	if f, ok := c.files[cleanPattern(name)]; ok {
		f.mode = mode
		c.files[cleanPattern(name)] = f
	}
	return c
}

// WithDockerfile names the Dockerfile inside the context.
func (c *Context) WithDockerfile(name string) *Context {
	c.dockerfile, c.inline = cleanPattern(name), nil
	return c
}

// WithDockerfileContent uses content as the Dockerfile.
func (c *Context) WithDockerfileContent(content []byte) *Context {
	c.inline = content
	c.dockerfile = inlineDockerfile
	return c
}

// Dir is the context directory ("" for in-memory files).
func (c *Context) Dir() string { return c.dir }

// DockerfileName is the Dockerfile's path inside the tar.
func (c *Context) DockerfileName() string { return c.dockerfile }

// Dockerfile returns the Dockerfile's content.
func (c *Context) Dockerfile() ([]byte, error) {
	if c.inline != nil {
		return c.inline, nil
	}
	if c.files != nil {
		f, ok := c.files[c.dockerfile]
		if !ok {
			return nil, fmt.Errorf("%w: no %q among the in-memory files", ErrDockerfileNotFound, c.dockerfile)
		}
		return f.data, nil
	}
	p := filepath.Join(c.dir, filepath.FromSlash(c.dockerfile))
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s (name another with Dockerfile(...), or give its content)", ErrDockerfileNotFound, p)
	}
	return data, err
}

// Validate checks the context directory and the Dockerfile exist.
func (c *Context) Validate() error {
	if c.files == nil {
		st, err := os.Stat(c.dir)
		if err != nil || !st.IsDir() {
			return fmt.Errorf("%w: %q is not a directory", ErrContextNotFound, c.dir)
		}
	}
	_, err := c.Dockerfile()
	return err
}

// matcher reads the context's .dockerignore.
func (c *Context) matcher() (*Matcher, error) {
	var r io.Reader
	if c.files != nil {
		f, ok := c.files[".dockerignore"]
		if !ok {
			return nil, nil
		}
		r = strings.NewReader(string(f.data))
	} else {
		f, err := os.Open(filepath.Join(c.dir, ".dockerignore"))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	pats, err := ParseDockerignore(r)
	if err != nil {
		return nil, err
	}
	return NewMatcher(pats)
}

// entry is one file of the context, in tar order.
type entry struct {
	name string
	info fs.FileInfo // nil for in-memory
	mem  *memFile
	abs  string
}

// always reports names included whatever .dockerignore says.
func (c *Context) always(name string) bool {
	return name == c.dockerfile || name == ".dockerignore"
}

// walk calls fn for every included entry in sorted order.
func (c *Context) walk(ctx context.Context, fn func(entry) error) error {
	if err := c.Validate(); err != nil {
		return err
	}
	m, err := c.matcher()
	if err != nil {
		return err
	}
	if c.files != nil {
		names := slices.Sorted(maps.Keys(c.files))
		for _, n := range names {
			if m.Excluded(n) && !c.always(n) {
				continue
			}
			f := c.files[n]
			if err := fn(entry{name: n, mem: &f}); err != nil {
				return err
			}
		}
	} else {
		root := c.dir
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			rel, err := filepath.Rel(root, p)
			if err != nil || rel == "." {
				return err
			}
			rel = filepath.ToSlash(rel)
			if c.onVisit != nil {
				c.onVisit(rel)
			}
			if m.Excluded(rel) && !c.always(rel) {
				if d.IsDir() && !m.mayIncludeInside(rel) {
					return fs.SkipDir
				}
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			return fn(entry{name: rel, info: info, abs: p})
		})
		if err != nil {
			return err
		}
	}
	if c.inline != nil {
		return fn(entry{name: inlineDockerfile, mem: &memFile{data: c.inline, mode: 0o644}})
	}
	return nil
}

// fixedTime is every entry's mtime, so equal content gives equal bytes.
var fixedTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// WriteTar streams the context as a tar to w: .dockerignore honoured,
// Dockerfile and .dockerignore always included, modes and symlinks kept
// (links are not followed), deterministic order and headers.
func (c *Context) WriteTar(ctx context.Context, w io.Writer) error {
	tw := tar.NewWriter(w)
	err := c.walk(ctx, func(e entry) error {
		hdr := &tar.Header{Name: e.name, ModTime: fixedTime, Format: tar.FormatPAX}
		var src io.Reader
		switch {
		case e.mem != nil:
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, int64(e.mem.mode.Perm()), int64(len(e.mem.data))
			src = strings.NewReader(string(e.mem.data))
		case e.info.IsDir():
			hdr.Typeflag, hdr.Mode, hdr.Name = tar.TypeDir, int64(e.info.Mode().Perm()), e.name+"/"
		case e.info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(e.abs)
			if err != nil {
				return err
			}
			hdr.Typeflag, hdr.Mode, hdr.Linkname = tar.TypeSymlink, 0o777, target
		case e.info.Mode().IsRegular():
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, int64(e.info.Mode().Perm()), e.info.Size()
			f, err := os.Open(e.abs)
			if err != nil {
				return err
			}
			defer f.Close()
			src = f
		default:
			return nil // sockets, devices: not part of a context
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if src != nil {
			n, err := io.Copy(tw, src)
			if err != nil {
				return err
			}
			if n != hdr.Size {
				return fmt.Errorf("%s changed size while being sent", e.name)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// Reader returns the tar (gzip-compressed when gz) as a stream produced
// while it is read.
func (c *Context) Reader(ctx context.Context, gz bool) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		var w io.Writer = pw
		var zw *gzip.Writer
		if gz {
			zw, _ = gzip.NewWriterLevel(pw, gzip.BestSpeed)
			w = zw
		}
		err := c.WriteTar(ctx, w)
		if err == nil && zw != nil {
			err = zw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// Hash is a sha256 over the sorted paths, modes, link targets and contents
// of the included files: the cache key of the context. An ignored file
// does not change it.
func (c *Context) Hash(ctx context.Context) (string, error) {
	h := sha256.New()
	buf := make([]byte, 64<<10)
	err := c.walk(ctx, func(e entry) error {
		switch {
		case e.mem != nil:
			fmt.Fprintf(h, "f %q %o %d\n", e.name, e.mem.mode.Perm(), len(e.mem.data))
			h.Write(e.mem.data)
		case e.info.IsDir():
			fmt.Fprintf(h, "d %q %o\n", e.name, e.info.Mode().Perm())
		case e.info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(e.abs)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "l %q %q\n", e.name, target)
		case e.info.Mode().IsRegular():
			fmt.Fprintf(h, "f %q %o %d\n", e.name, e.info.Mode().Perm(), e.info.Size())
			f, err := os.Open(e.abs)
			if err != nil {
				return err
			}
			_, err = io.CopyBuffer(h, f, buf)
			f.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Files lists the included paths, for tests and diagnostics.
func (c *Context) Files(ctx context.Context) ([]string, error) {
	var out []string
	err := c.walk(ctx, func(e entry) error {
		out = append(out, e.name)
		return nil
	})
	return out, err
}
