package untar

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type entry struct {
	name, body, link string
	kind             byte
	mode             int64
}

func tarOf(t *testing.T, entries ...entry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: e.kind, Mode: e.mode, Linkname: e.link, Size: int64(len(e.body))}))
		_, err := tw.Write([]byte(e.body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return &buf
}

func TestExtractKeepsModesAndSymlinks(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "link"), []byte("old"), 0o644))
	err := Extract(tarOf(t,
		entry{name: "in/", kind: tar.TypeDir, mode: 0o500},
		entry{name: "in/run.sh", kind: tar.TypeReg, mode: 0o755, body: "#!/bin/sh\n"},
		entry{name: "deep/er/file", kind: tar.TypeReg, mode: 0o600, body: "x"},
		entry{name: "link", kind: tar.TypeSymlink, link: "in/run.sh"},
		entry{name: "fifo", kind: tar.TypeFifo, mode: 0o644},
	), dir)
	require.NoError(t, err)

	st, err := os.Stat(filepath.Join(dir, "in"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm(), "a directory stays writable by its owner")
	st, err = os.Stat(filepath.Join(dir, "in/run.sh"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), st.Mode().Perm())
	b, err := os.ReadFile(filepath.Join(dir, "deep/er/file"))
	require.NoError(t, err)
	assert.Equal(t, "x", string(b))
	target, err := os.Readlink(filepath.Join(dir, "link"))
	require.NoError(t, err)
	assert.Equal(t, "in/run.sh", target, "the symlink replaced the file")
	_, err = os.Lstat(filepath.Join(dir, "fifo"))
	assert.True(t, os.IsNotExist(err), "other kinds are skipped: %v", err)
}

func TestExtractStaysInside(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
	}{
		{"dot-dot name", []entry{{name: "../evil", kind: tar.TypeReg, mode: 0o644, body: "x"}}},
		{"absolute name", []entry{{name: "/evil", kind: tar.TypeReg, mode: 0o644, body: "x"}}},
		{"through a symlink", []entry{
			{name: "out", kind: tar.TypeSymlink, link: "../outside"},
			{name: "out/evil", kind: tar.TypeReg, mode: 0o644, body: "x"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "dir")
			require.NoError(t, os.Mkdir(dir, 0o755))
			require.NoError(t, os.Mkdir(filepath.Join(parent, "outside"), 0o755))
			err := Extract(tarOf(t, tt.entries...), dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "evil")
			for _, p := range []string{filepath.Join(parent, "evil"), filepath.Join(parent, "outside", "evil"), "/evil"} {
				_, err := os.Lstat(p)
				assert.True(t, os.IsNotExist(err), "%s was written", p)
			}
		})
	}
}
