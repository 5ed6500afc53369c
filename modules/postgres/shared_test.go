//go:build !mutation

// Needs an engine: left out of mutation runs (scripts/mutation.sh).

package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/testenv"
)

// clonesSuiteTest is a package of the generated suite: parallel tests,
// each with a clone from the run's shared server, each writing
// "<server ID> <database>" to $OUT.
const clonesSuiteTest = `
import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/internal/tests/pgclone"
	"github.com/berth-go/berth/modules/postgres"
)

func TestClones(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			pg := postgres.New(berth.New(t).Shared()).InitSQL(pgclone.Schema).Start()
			db := pg.Clone(t)
			pgclone.Isolated(t, db.DSN())
			wd, _ := os.Getwd()
			f := filepath.Join(os.Getenv("OUT"), filepath.Base(wd)+"-"+fmt.Sprint(i))
			if err := os.WriteFile(f, []byte(pg.ID()+" "+db.Name()), 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
}
`

// TestClonesAcrossPackages: three test binaries of one go test run share
// one server and take twelve distinct clones from it; the server is gone
// when the run ends.
func TestClonesAcrossPackages(t *testing.T) {
	h := berth.New(t)
	dir := testenv.GoModule(t, map[string]string{"pa": clonesSuiteTest, "pb": clonesSuiteTest, "pc": clonesSuiteTest})
	out := t.TempDir()
	cmd := testenv.GoTest(t, dir, []string{"OUT=" + out}, "-count=1", "-p", "3", "./...")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)
	files, err := filepath.Glob(filepath.Join(out, "*"))
	require.NoError(t, err)
	require.Len(t, files, 12, "%s", b)
	servers, dbs := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		server, db, _ := strings.Cut(string(data), " ")
		servers[server], dbs[db] = true, true
	}
	assert.Len(t, servers, 1, "one server for the run")
	assert.Len(t, dbs, 12, "a database per test")
	require.Eventually(t, func() bool {
		left, err := h.Engine().Containers(context.Background(), engine.Labelled(engine.LabelRunPID+"="+strconv.Itoa(cmd.Process.Pid)))
		return err == nil && len(left) == 0
	}, 15*time.Second, 200*time.Millisecond, "the run's server outlived it")
}
