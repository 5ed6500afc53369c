package buildkit_test

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/build"
	"github.com/berth-go/berth/internal/tests/buildtest"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
)

// readLayout reads an OCI layout tar into memory, checking every blob's
// digest.
func readLayout(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	files := map[string][]byte{}
	for name, e := range testenv.ReadTar(t, f) {
		if e.Header.Typeflag != tar.TypeReg {
			continue
		}
		files[name] = e.Content
		if digest, ok := strings.CutPrefix(name, "blobs/sha256/"); ok {
			sum := sha256.Sum256(e.Content)
			assert.Equal(t, digest, hex.EncodeToString(sum[:]), "blob %s matches its digest", name)
		}
	}
	return files
}

type ociDesc struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int               `json:"size"`
	Annotations map[string]string `json:"annotations"`
	Platform    struct{ Architecture, OS string }
}

func blobOf(t *testing.T, files map[string][]byte, d ociDesc) []byte {
	t.Helper()
	b, ok := files["blobs/sha256/"+strings.TrimPrefix(d.Digest, "sha256:")]
	require.True(t, ok, "blob %s is in the layout", d.Digest)
	assert.Len(t, b, d.Size)
	return b
}

func TestExportDockerAndOCI(t *testing.T) {
	h, forget := buildtest.ParallelHarness(t)
	ctx := t.Context()
	dir := t.TempDir()
	dockerTar, ociTar, ociDockerTypes := filepath.Join(dir, "image.docker.tar"), filepath.Join(dir, "image.oci.tar"), filepath.Join(dir, "image.oci-docker.tar")
	nonce := testenv.Unique(t)
	tag := "berth-test/export:" + strings.ToLower(strings.ReplaceAll(nonce, "/", "-"))
	img := h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nRUN echo " + nonce + " > /id\nCMD [\"cat\", \"/id\"]\n")}).
		Tag(tag).
		ExportDocker(dockerTar).
		ExportOCI(ociTar).Annotation("org.opencontainers.image.source", "https://example.com/berth").
		ExportOCI(ociDockerTypes).OCIMediaTypes(false).
		Image()
	forget(img)

	// The docker tarball loads back under the tag and runs.
	require.NoError(t, testenv.Wire(h.Engine()).ImageRemove(ctx, img, true, false))
	_, err := testenv.Wire(h.Engine()).ImageInspect(ctx, img)
	require.ErrorIs(t, err, wire.ErrNotFound, "the image is gone before the load")
	f, err := os.Open(dockerTar)
	require.NoError(t, err)
	require.NoError(t, testenv.Wire(h.Engine()).ImageLoad(ctx, f, nil))
	f.Close()
	ins, err := testenv.Wire(h.Engine()).ImageInspect(ctx, tag)
	require.NoError(t, err)
	assert.Equal(t, img, ins.ID)
	assert.Equal(t, nonce+"\n", buildtest.Output(t, h, tag))

	// The OCI layout: index → manifest → config (the image ID) and layers.
	files := readLayout(t, ociTar)
	assert.JSONEq(t, `{"imageLayoutVersion":"1.0.0"}`, string(files["oci-layout"]))
	var index struct{ Manifests []ociDesc }
	require.NoError(t, json.Unmarshal(files["index.json"], &index))
	require.Len(t, index.Manifests, 1)
	md := index.Manifests[0]
	assert.Equal(t, "application/vnd.oci.image.manifest.v1+json", md.MediaType)
	assert.Equal(t, "docker.io/"+tag, md.Annotations["io.containerd.image.name"])
	assert.Equal(t, tag[strings.LastIndex(tag, ":")+1:], md.Annotations["org.opencontainers.image.ref.name"])
	assert.Equal(t, "https://example.com/berth", md.Annotations["org.opencontainers.image.source"])
	assert.Equal(t, buildtest.EngineArch(t, h), md.Platform.Architecture)
	var manifest struct {
		Config      ociDesc
		Layers      []ociDesc
		Annotations map[string]string
	}
	require.NoError(t, json.Unmarshal(blobOf(t, files, md), &manifest))
	assert.Equal(t, img, manifest.Config.Digest, "the config blob is the image ID")
	assert.Equal(t, "application/vnd.oci.image.config.v1+json", manifest.Config.MediaType)
	blobOf(t, files, manifest.Config)
	assert.Equal(t, ins.RootFS.Layers, digests(manifest.Layers))
	for _, l := range manifest.Layers {
		assert.Equal(t, "application/vnd.oci.image.layer.v1.tar", l.MediaType)
		blobOf(t, files, l)
	}
	assert.Equal(t, "https://example.com/berth", manifest.Annotations["org.opencontainers.image.source"])

	files = readLayout(t, ociDockerTypes)
	require.NoError(t, json.Unmarshal(files["index.json"], &index))
	assert.Equal(t, "application/vnd.docker.distribution.manifest.v2+json", index.Manifests[0].MediaType)
}

func digests(ds []ociDesc) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Digest)
	}
	return out
}

func TestExportBadInput(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	nonce := testenv.Unique(t)
	files := map[string][]byte{"Dockerfile": []byte("FROM busybox:1.36\nLABEL berth.test.export=" + strings.ReplaceAll(nonce, "/", "-") + "\n")}
	tests := []struct {
		name string
		b    *berth.BuildBuilder
		want string
	}{
		{"unwritable path", h.BuildFiles(files).ExportOCI("/nonexistent-berth-dir/image.tar"), "not writable"},
		{"a directory", h.BuildFiles(files).ExportDocker(t.TempDir()), "is a directory"},
		{"annotation without ExportOCI", h.BuildFiles(files).Annotation("a", "b"), "call ExportOCI first"},
		{"annotation on docker", h.BuildFiles(files).ExportDocker(filepath.Join(t.TempDir(), "x.tar")).Annotation("a", "b"), "call ExportOCI first"},
	}
	for _, tt := range tests {
		_, err := tt.b.ImageE(t.Context())
		require.Error(t, err, tt.name)
		assert.ErrorIs(t, err, build.ErrExport, tt.name)
		assert.Contains(t, err.Error(), tt.want, tt.name)
	}
	imgs, err := testenv.Wire(h.Engine()).ImageList(t.Context(), wire.Filters{"label": {"berth.test.export=" + strings.ReplaceAll(nonce, "/", "-")}})
	require.NoError(t, err)
	assert.Empty(t, imgs, "nothing was built")
}
