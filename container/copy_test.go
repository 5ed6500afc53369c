package container_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
)

// Names ustar cannot hold (long, non-ASCII) and modes beyond the permission
// bits arrive in the container as on the host.
func TestCopyToKeepsNamesAndModes(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	dir := t.TempDir()
	long := strings.Repeat("n", 120)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, long, "données"), 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(dir, long, "données", "schéma.sql"), []byte("SELECT 1;\n"), 0o640))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "run.sh"), []byte("#!/bin/sh\n"), 0o755))
	require.NoError(t, os.Chmod(filepath.Join(dir, "run.sh"), 0o755|os.ModeSetuid))
	target := "/" + strings.Repeat("t", 90) + "/" + long + "/données/schéma.sql"
	require.NoError(t, os.Symlink(target, filepath.Join(dir, "link")))

	c := run(t, h, container.Spec{Cmd: []string{"sleep", "600"}}, "")
	require.NoError(t, c.CopyTo(ctx, dir, "/in"))
	got, err := c.ReadFile(ctx, "/in/"+long+"/données/schéma.sql")
	require.NoError(t, err)
	assert.Equal(t, "SELECT 1;\n", string(got))
	assert.Equal(t, "4755 0 0\n", exec(t, c, "stat", "-c", "%a %u %g", "/in/run.sh"))
	assert.Equal(t, "750\n", exec(t, c, "stat", "-c", "%a", "/in/"+long+"/données"))
	assert.Equal(t, target+"\n", exec(t, c, "readlink", "/in/link"))
}
