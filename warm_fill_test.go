package berth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/internal/tests/testenv"
)

// warmFillPackage is a package of TestWarmFillsOnceAcrossBinaries: it
// waits until every package has come (so that they miss the cache at
// once), starts a warm busybox whose setup records each run in
// $OUT/setups, waits for the cache fill and writes the cache image to
// $OUT/image-<package>.
const warmFillPackage = `
import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-go/berth"
)

func TestFill(t *testing.T) {
	out := os.Getenv("OUT")
	wd, _ := os.Getwd()
	me := filepath.Base(wd)
	if err := os.WriteFile(filepath.Join(out, "came-"+me), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if came, _ := filepath.Glob(filepath.Join(out, "came-*")); len(came) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other package did not come")
		}
	}
	c := berth.New(t).Container("busybox:1.36").
		Cmd("sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait").
		Warm(os.Getenv("KEY")).
		WarmSetup(func(ctx context.Context, c *berth.Container) error {
			f, err := os.OpenFile(filepath.Join(out, "setups"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			defer f.Close()
			fmt.Fprintln(f, me, c.ID())
			time.Sleep(time.Second) // the other binary misses meanwhile
			return nil
		}).
		Start()
	r := c.WarmResult()
	if err := r.Filled(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "image-"+me), []byte(r.Image), 0o644); err != nil {
		t.Fatal(err)
	}
}
`

// TestWarmFillsOnceAcrossBinaries: two test binaries of one run that miss
// the warm-start cache at once each start cold, but the cache is filled
// once: the second waits for the first's fill (a lock file) and finds the
// image made.
func TestWarmFillsOnceAcrossBinaries(t *testing.T) {
	t.Parallel()
	track := testenv.RemoveImages(t)
	dir := testenv.GoModule(t, map[string]string{"pa": warmFillPackage, "pb": warmFillPackage})
	out := t.TempDir()
	key := testenv.Unique(t)
	b, err := testenv.GoTest(t, dir, []string{"OUT=" + out, "KEY=" + key}, "-count=1", "-p", "2", "./...").CombinedOutput()
	for _, pkg := range []string{"pa", "pb"} {
		if img, err := os.ReadFile(filepath.Join(out, "image-"+pkg)); err == nil {
			track(string(img))
		}
	}
	require.NoError(t, err, "%s", b)
	a, err := os.ReadFile(filepath.Join(out, "image-pa"))
	require.NoError(t, err)
	bb, err := os.ReadFile(filepath.Join(out, "image-pb"))
	require.NoError(t, err)
	assert.Equal(t, string(a), string(bb), "one cache image")
	setups, err := os.ReadFile(filepath.Join(out, "setups"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(setups)), "\n")
	// Two cold starts (one per binary) and one fill.
	assert.Len(t, lines, 3, "setups:\n%s", setups)
}
