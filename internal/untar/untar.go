// Package untar writes a tar stream into a directory on the host, the one
// way berth unpacks what a container or a build context sends.
package untar

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Extract writes the entries of the tar stream r under dir, which must
// exist: directories (always writable by their owner), regular files and
// symlinks, with their permission bits; other kinds are skipped. A symlink
// replaces what was at its path. Every write goes through an os.Root of
// dir, so an entry whose name leaves dir, or whose path runs through a
// symlink out of it, stops the extraction with an error instead of
// writing outside.
func Extract(r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(filepath.FromSlash(h.Name))
		if !filepath.IsLocal(name) {
			return fmt.Errorf("tar entry %q leaves the directory", h.Name)
		}
		if err := write(root, name, h, tr); err != nil {
			return fmt.Errorf("tar entry %q: %w", h.Name, err)
		}
	}
}

func write(root *os.Root, name string, h *tar.Header, content io.Reader) error {
	if err := root.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	mode := os.FileMode(h.Mode).Perm()
	switch h.Typeflag {
	case tar.TypeDir:
		return root.MkdirAll(name, mode|0o700)
	case tar.TypeSymlink:
		root.Remove(name) // a missing path is fine; Symlink reports the rest
		return root.Symlink(h.Linkname, name)
	case tar.TypeReg:
		f, err := root.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	return nil
}
