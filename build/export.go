package build

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/link"
	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/registry"
)

// Export formats.
const (
	// FormatDocker is the tarball `docker save` writes and `docker load`
	// (POST /images/load) reads.
	FormatDocker = "docker"
	// FormatOCI is an OCI image layout in a tar file.
	FormatOCI = "oci"
)

// Export writes the built image to a file as well as keeping it in the
// engine.
type Export struct {
	Format string // FormatDocker or FormatOCI
	Path   string // the tar file to write; its directory must exist
	// Annotations go on the OCI manifest and its index entry (OCI only).
	Annotations map[string]string
	// DockerMediaTypes writes the OCI layout with Docker's media types
	// instead of OCI's (BuildKit's oci-mediatypes=false).
	DockerMediaTypes bool
}

// ErrExport says an image could not be written to a file.
var ErrExport = errors.New("image export failed")

// check finds an export that cannot work before anything is built.
func (e Export) check() error {
	switch e.Format {
	case FormatDocker:
		if len(e.Annotations) > 0 || e.DockerMediaTypes {
			return fmt.Errorf("export %s: %w: annotations and media types are for the oci format; docker save's format has neither", e.Path, ErrExport)
		}
	case FormatOCI:
	default:
		return fmt.Errorf("export format %q: %w: use %q or %q", e.Format, ErrExport, FormatDocker, FormatOCI)
	}
	if e.Path == "" {
		return fmt.Errorf("export: %w: give a file path", ErrExport)
	}
	dir := filepath.Dir(e.Path)
	f, err := os.CreateTemp(dir, ".berth-export-check-*")
	if err != nil {
		return fmt.Errorf("export to %s: %w: the directory %s is not writable (%v)", e.Path, ErrExport, dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	if st, err := os.Stat(e.Path); err == nil && st.IsDir() {
		return fmt.Errorf("export to %s: %w: it is a directory; give a file path", e.Path, ErrExport)
	}
	return nil
}

// Write saves the images refs as e asks. The file appears complete or not
// at all.
func (e Export) Write(ctx context.Context, c *engine.Client, refs ...string) error {
	return e.write(ctx, link.Wire(c), refs...)
}

func (e Export) write(ctx context.Context, c *wire.Client, refs ...string) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(e.Path), ".berth-export-*")
	if err != nil {
		return fmt.Errorf("export to %s: %w: %v", e.Path, ErrExport, err)
	}
	defer func() {
		tmp.Close()
		if err != nil {
			os.Remove(tmp.Name())
			err = fmt.Errorf("export %s to %s: %w: %v", refs[0], e.Path, ErrExport, err)
		}
	}()
	saved, err := c.ImageSave(ctx, refs...)
	if err != nil {
		return err
	}
	defer saved.Close()
	if e.Format == FormatDocker {
		if _, err := io.Copy(tmp, saved); err != nil {
			return err
		}
	} else {
		// The OCI layout needs the config and manifest, which docker save
		// puts after the layers: spool first.
		spool, err := os.CreateTemp("", "berth-save-*")
		if err != nil {
			return err
		}
		defer os.Remove(spool.Name())
		defer spool.Close()
		if _, err := io.Copy(spool, saved); err != nil {
			return err
		}
		if err := e.writeOCI(spool, tmp); err != nil {
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), e.Path)
}

// OCI and Docker media types of the layout's blobs.
const (
	mtOCIIndex       = "application/vnd.oci.image.index.v1+json"
	mtOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mtOCIConfig      = "application/vnd.oci.image.config.v1+json"
	mtOCILayer       = "application/vnd.oci.image.layer.v1.tar"
	mtDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mtDockerConfig   = "application/vnd.docker.container.image.v1+json"
	mtDockerLayer    = "application/vnd.docker.image.rootfs.diff.tar"
)

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *platform         `json:"platform,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant,omitempty"`
}

// writeOCI turns a docker save tarball into an OCI image layout: the
// config and the uncompressed layers become blobs under their digests
// (the layers' are the config's diff IDs, checked while copying), with a
// manifest and an index naming the image's tags.
func (e Export) writeOCI(saved *os.File, out io.Writer) error {
	files, err := tarIndex(saved)
	if err != nil {
		return err
	}
	var manifests []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(files["manifest.json"].data, &manifests); err != nil || len(manifests) != 1 {
		return fmt.Errorf("docker save gave no single image manifest (%v)", err)
	}
	m := manifests[0]
	cfgEntry, ok := files[m.Config]
	if !ok {
		return fmt.Errorf("docker save lacks the config %s", m.Config)
	}
	var cfg struct {
		Architecture, OS, Variant string
		RootFS                    struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(cfgEntry.data, &cfg); err != nil {
		return fmt.Errorf("image config: %v", err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return fmt.Errorf("image config names %d layers, docker save gave %d", len(cfg.RootFS.DiffIDs), len(m.Layers))
	}
	mtManifest, mtConfig, mtLayer := mtOCIManifest, mtOCIConfig, mtOCILayer
	if e.DockerMediaTypes {
		mtManifest, mtConfig, mtLayer = mtDockerManifest, mtDockerConfig, mtDockerLayer
	}

	tw := tar.NewWriter(out)
	blob := func(digest string, size int64, r io.Reader) error {
		hx, ok := cutDigest(digest)
		if !ok {
			return fmt.Errorf("bad digest %q", digest)
		}
		if err := tw.WriteHeader(&tar.Header{Name: "blobs/sha256/" + hx, Mode: 0o444, Size: size, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		h := sha256.New()
		if _, err := io.Copy(tw, io.TeeReader(r, h)); err != nil {
			return err
		}
		if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
			return fmt.Errorf("blob digest %s, want %s", got, digest)
		}
		return nil
	}
	jsonBlob := func(v any) (descriptor, []byte, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return descriptor{}, nil, err
		}
		sum := sha256.Sum256(b)
		return descriptor{Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(b))}, b, nil
	}

	if err := tw.WriteHeader(&tar.Header{Name: "blobs/", Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "blobs/sha256/", Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
		return err
	}
	cfgSum := sha256.Sum256(cfgEntry.data)
	cfgDesc := descriptor{MediaType: mtConfig, Digest: "sha256:" + hex.EncodeToString(cfgSum[:]), Size: int64(len(cfgEntry.data))}
	if err := blob(cfgDesc.Digest, cfgDesc.Size, bytes.NewReader(cfgEntry.data)); err != nil {
		return err
	}
	layers := make([]descriptor, len(m.Layers))
	for i, name := range m.Layers {
		le, ok := files[name]
		if !ok {
			return fmt.Errorf("docker save lacks the layer %s", name)
		}
		layers[i] = descriptor{MediaType: mtLayer, Digest: cfg.RootFS.DiffIDs[i], Size: le.size}
		if err := blob(layers[i].Digest, le.size, io.NewSectionReader(saved, le.offset, le.size)); err != nil {
			return fmt.Errorf("layer %s: %v", name, err)
		}
	}
	manifest := struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     string            `json:"mediaType"`
		Config        descriptor        `json:"config"`
		Layers        []descriptor      `json:"layers"`
		Annotations   map[string]string `json:"annotations,omitempty"`
	}{2, mtManifest, cfgDesc, layers, e.Annotations}
	mDesc, mBytes, err := jsonBlob(manifest)
	if err != nil {
		return err
	}
	if err := blob(mDesc.Digest, mDesc.Size, bytes.NewReader(mBytes)); err != nil {
		return err
	}
	mDesc.MediaType = mtManifest
	mDesc.Platform = &platform{Architecture: cfg.Architecture, OS: cfg.OS, Variant: cfg.Variant}
	refs := m.RepoTags
	if len(refs) == 0 {
		refs = []string{""}
	}
	var entries []descriptor
	for _, tag := range refs {
		d := mDesc
		d.Annotations = map[string]string{}
		for k, v := range e.Annotations {
			d.Annotations[k] = v
		}
		if r, err := registry.ParseReference(tag); tag != "" && err == nil {
			d.Annotations["io.containerd.image.name"] = r.String()
			d.Annotations["org.opencontainers.image.ref.name"] = r.Tag
		}
		entries = append(entries, d)
	}
	index := struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Manifests     []descriptor `json:"manifests"`
	}{2, mtOCIIndex, entries}
	for _, f := range []struct {
		name string
		v    any
	}{{"oci-layout", map[string]string{"imageLayoutVersion": "1.0.0"}}, {"index.json", index}} {
		b, err := json.Marshal(f.v)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o444, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(b); err != nil {
			return err
		}
	}
	return tw.Close()
}

type tarEntry struct {
	offset, size int64
	data         []byte // small JSON files only
}

// tarIndex finds every regular file of an uncompressed tar by offset, and
// reads the small JSON ones.
func tarIndex(f *os.File) (map[string]tarEntry, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	cr := &countingReader{r: f}
	tr := tar.NewReader(cr)
	out := map[string]tarEntry{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		e := tarEntry{offset: cr.n, size: h.Size}
		if filepath.Ext(h.Name) == ".json" && h.Size < 16<<20 {
			if e.data, err = io.ReadAll(tr); err != nil {
				return nil, err
			}
		}
		out[h.Name] = e
	}
}

// countingReader counts bytes read; the tar reader reads headers in whole
// blocks, so after Next the count is the entry's data offset.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func cutDigest(d string) (string, bool) {
	const p = "sha256:"
	if len(d) != len(p)+64 || d[:len(p)] != p {
		return "", false
	}
	return d[len(p):], true
}
