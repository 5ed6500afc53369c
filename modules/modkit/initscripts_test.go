package modkit_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/modules/modkit"
)

func TestInitScriptsAddFiles(t *testing.T) {
	dir := t.TempDir()
	schema := filepath.Join(dir, "schema.sql")
	require.NoError(t, os.WriteFile(schema, []byte("CREATE TABLE t (id int);"), 0o644))

	var s modkit.InitScripts
	require.NoError(t, s.AddFiles(schema))
	s.AddSQL("INSERT INTO t VALUES (1);")
	assert.Equal(t, 2, s.Len())

	err := s.AddFiles(schema, filepath.Join(dir, "missing.sql"))
	assert.ErrorContains(t, err, "missing.sql does not exist: fix the path")
	err = s.AddFiles(dir)
	assert.ErrorContains(t, err, "is a directory: pass the script files")
	assert.Equal(t, 2, s.Len(), "a failed AddFiles adds none of its files")
}
