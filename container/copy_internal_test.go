package container

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What addFile writes reads back entry for entry: long names and link
// targets, modes with setuid and sticky bits, symlinks, FIFOs, content.
func TestAddFileStream(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("d/", 60) + "file.txt"
	require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(long)), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, long), []byte("long"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "suid"), []byte("x"), 0o755))
	require.NoError(t, os.Chmod(filepath.Join(dir, "suid"), 0o755|fs.ModeSetuid))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "tmp"), 0o755))
	require.NoError(t, os.Chmod(filepath.Join(dir, "tmp"), 0o777|fs.ModeSticky))
	far := "/" + strings.Repeat("t/", 70) + "target"
	require.NoError(t, os.Symlink(far, filepath.Join(dir, "far")))

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	require.NoError(t, addFile(tw, File{HostPath: dir, Target: "/srv"}))
	require.NoError(t, addFile(tw, File{Content: []byte("hello"), Target: "/etc/app.conf", Mode: 0o600}))
	require.NoError(t, tw.Close())

	got := map[string]*tar.Header{}
	content := map[string]string{}
	for name, e := range testenv.ReadTar(t, &buf) {
		got[name], content[name] = e.Header, string(e.Content)
	}
	require.Contains(t, got, "srv/"+long)
	assert.Equal(t, "long", content["srv/"+long])
	assert.Equal(t, int64(0o4755), got["srv/suid"].Mode)
	assert.Equal(t, byte(tar.TypeDir), got["srv/tmp/"].Typeflag)
	assert.Equal(t, int64(0o1777), got["srv/tmp/"].Mode)
	assert.Equal(t, far, got["srv/far"].Linkname)
	assert.Equal(t, byte(tar.TypeSymlink), got["srv/far"].Typeflag)
	assert.Equal(t, "hello", content["etc/app.conf"])
	assert.Equal(t, int64(0o600), got["etc/app.conf"].Mode)
	assert.Equal(t, 0, got["etc/app.conf"].Uid, "owned by root")
}
