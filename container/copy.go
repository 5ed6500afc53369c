package container

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-go/berth/internal/untar"
)

// copyFiles copies the spec's files into the container as one tar rooted
// at "/": the engine creates missing parent directories.
func (c *Container) copyFiles(ctx context.Context, files []File) error {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		var err error
		for _, f := range files {
			if err = addFile(tw, f); err != nil {
				break
			}
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	err := c.client.CopyToContainer(ctx, c.id, "/", pr)
	pr.CloseWithError(err)
	return err
}

func addFile(tw *tar.Writer, f File) error {
	return walkFile(f, func(e *tar.Header, open func() (io.ReadCloser, error)) error {
		if err := tw.WriteHeader(e); err != nil {
			return err
		}
		return copyContent(tw, open)
	})
}

// copyContent copies what open opens to w; a nil open copies nothing.
func copyContent(w io.Writer, open func() (io.ReadCloser, error)) error {
	if open == nil {
		return nil
	}
	src, err := open()
	if err != nil {
		return err
	}
	defer src.Close()
	_, err = io.Copy(w, src)
	return err
}

// walkFile calls fn with every entry f puts into a container and, for
// regular files, a way to open the content (nil for other entries).
func walkFile(f File, fn func(e *tar.Header, open func() (io.ReadCloser, error)) error) error {
	target := strings.TrimPrefix(path.Clean(f.Target), "/")
	if f.HostPath == "" {
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		e := &tar.Header{Name: target, Typeflag: tar.TypeReg, Mode: int64(mode.Perm()), Size: int64(len(f.Content)), Format: tar.FormatPAX}
		return fn(e, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(f.Content)), nil })
	}
	return filepath.WalkDir(f.HostPath, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(f.HostPath, p)
		if err != nil {
			return err
		}
		name := target
		if rel != "." {
			name = path.Join(target, filepath.ToSlash(rel))
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		e, err := fileEntry(info, name, link)
		if err != nil {
			return err
		}
		if f.Mode != 0 && info.Mode().IsRegular() {
			e.Mode = int64(f.Mode.Perm())
		}
		if !info.Mode().IsRegular() {
			return fn(e, nil)
		}
		return fn(e, func() (io.ReadCloser, error) { return os.Open(p) })
	})
}

// fileEntry is the tar entry of a host file copied into a container: owned
// by root, with the file's permission, setuid, setgid and sticky bits and
// its modification time to the second.
func fileEntry(info fs.FileInfo, name, link string) (*tar.Header, error) {
	fm := info.Mode()
	// PAX keeps long names and link targets; the times are whole seconds
	// so no PAX time record is written.
	e := &tar.Header{Name: name, Mode: int64(fm.Perm()), ModTime: info.ModTime().Truncate(time.Second), Format: tar.FormatPAX}
	switch {
	case fm.IsRegular():
		e.Typeflag, e.Size = tar.TypeReg, info.Size()
	case fm.IsDir():
		e.Typeflag, e.Name = tar.TypeDir, name+"/"
	case fm&fs.ModeSymlink != 0:
		e.Typeflag, e.Linkname = tar.TypeSymlink, link
	case fm&fs.ModeNamedPipe != 0:
		e.Typeflag = tar.TypeFifo
	default:
		return nil, fmt.Errorf("%s: a %s cannot be copied into a container", name, fileKind(fm))
	}
	if fm&fs.ModeSetuid != 0 {
		e.Mode |= 0o4000
	}
	if fm&fs.ModeSetgid != 0 {
		e.Mode |= 0o2000
	}
	if fm&fs.ModeSticky != 0 {
		e.Mode |= 0o1000
	}
	return e, nil
}

func fileKind(fm fs.FileMode) string {
	switch {
	case fm&fs.ModeSocket != 0:
		return "socket"
	case fm&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// CopyTo copies a host file or directory to target inside the container.
// Missing parent directories are created.
func (c *Container) CopyTo(ctx context.Context, hostPath, target string) error {
	if !strings.HasPrefix(target, "/") {
		return &SpecError{Field: "CopyTo", Value: target, Hint: "the target must be an absolute path inside the container"}
	}
	if _, err := os.Stat(hostPath); err != nil {
		return &SpecError{Field: "CopyTo", Value: hostPath, Hint: "the host path does not exist"}
	}
	return c.copyFiles(ctx, []File{{HostPath: hostPath, Target: target}})
}

// CopyContentTo writes content as the file target inside the container.
func (c *Container) CopyContentTo(ctx context.Context, content []byte, target string, mode os.FileMode) error {
	if !strings.HasPrefix(target, "/") {
		return &SpecError{Field: "CopyContentTo", Value: target, Hint: "the target must be an absolute path inside the container"}
	}
	return c.copyFiles(ctx, []File{{Content: content, Target: target, Mode: mode}})
}

// CopyFrom returns the tar stream of path inside the container, as the
// engine's archive endpoint sends it.
func (c *Container) CopyFrom(ctx context.Context, p string) (io.ReadCloser, error) {
	rc, _, err := c.client.CopyFromContainer(ctx, c.id, p)
	return rc, err
}

// ReadFile returns the content of one regular file inside the container.
func (c *Container) ReadFile(ctx context.Context, p string) ([]byte, error) {
	rc, err := c.CopyFrom(ctx, p)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	hdr, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", p, c, err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil, fmt.Errorf("read %s from %s: not a regular file", p, c)
	}
	return io.ReadAll(tr)
}

// CopyDirFrom copies path inside the container into hostDir (created if
// missing), keeping modes and symlinks. Entries escaping hostDir, by name
// or through a symlink, are refused.
func (c *Container) CopyDirFrom(ctx context.Context, p, hostDir string) error {
	rc, err := c.CopyFrom(ctx, p)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := os.MkdirAll(hostDir, 0o755); err != nil {
		return err
	}
	if err := untar.Extract(rc, hostDir); err != nil {
		return fmt.Errorf("copy %s from %s to %s: %w", p, c, hostDir, err)
	}
	return nil
}
