package berth_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/berth-go/berth"
)

// TestSkipHelper runs only as a child of TestSkipWithoutEngine.
func TestSkipHelper(t *testing.T) {
	if os.Getenv("BERTH_SKIP_CHILD") == "" {
		t.Skip("runs only as a child of TestSkipWithoutEngine")
	}
	var opts []berth.Option
	if os.Getenv("BERTH_SKIP_CHILD") == "option" {
		opts = append(opts, berth.SkipWithoutEngine())
	}
	berth.New(t, opts...)
	t.Log("berth.New returned")
}

// Skipping without an engine is opt-in, says why, and on CI needs the
// variable too.
func TestSkipWithoutEngine(t *testing.T) {
	t.Parallel()
	sock := "unix://" + filepath.Join(t.TempDir(), "no-engine.sock")
	run := func(child, ci, skipVar string) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSkipHelper$", "-test.v")
		cmd.Env = append(os.Environ(), "BERTH_SKIP_CHILD="+child, "DOCKER_HOST="+sock, "CI="+ci,
			"BERTH_SKIP_WITHOUT_ENGINE="+skipVar, "BERTH_WATCHDOG_OFF=1")
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	out := run("option", "", "")
	assert.Contains(t, out, "--- SKIP: TestSkipHelper", out)
	assert.Contains(t, out, "no engine answers, test skipped (SkipWithoutEngine")
	assert.Contains(t, out, "no-engine.sock", "the skip says which engine")

	out = run("plain", "", "")
	assert.Contains(t, out, "--- FAIL: TestSkipHelper", "without the option a missing engine fails: %s", out)

	out = run("option", "true", "")
	assert.Contains(t, out, "--- FAIL: TestSkipHelper", "on CI the option alone does not skip: %s", out)

	out = run("plain", "true", "1")
	assert.Contains(t, out, "--- SKIP: TestSkipHelper", "the variable skips, on CI too: %s", out)
	assert.Contains(t, out, "BERTH_SKIP_WITHOUT_ENGINE=1")
}
