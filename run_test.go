package berth_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// runContainers lists the containers and networks labelled with the run
// of `go` process pid, running or not.
func runContainers(t *testing.T, c *engine.Client, pid int) []string {
	t.Helper()
	rs, err := c.List(context.Background(), engine.Labelled(engine.LabelRunPID+"="+strconv.Itoa(pid)))
	require.NoError(t, err)
	var ids []string
	for _, x := range rs {
		ids = append(ids, string(x.Kind)+" "+x.ID)
	}
	return ids
}

// eventuallyNone waits until no container of the run of pid is left.
func eventuallyNone(t *testing.T, c *engine.Client, pid int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		left := runContainers(t, c, pid)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("run of go pid %d: %d containers or networks left %v after %v", pid, len(left), left, within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// sharedSuiteTest is a test file of the generated suite: it starts (or
// joins) the run-shared busybox, writes its ID to $OUT/<pkg>-<n>, and
// waits until every package wrote one, so the binaries truly overlap.
// KILL=<pkg> makes that package SIGKILL itself once it wrote its ID.
const sharedSuiteTest = `
import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/berth-go/berth"
)

func TestShared(t *testing.T) {
	h := berth.New(t)
	net := h.Shared().Network("backend")
	c := h.Shared().Container("busybox:1.36").Cmd("sleep", "600").Network(net, "shared").Start()
	out := os.Getenv("OUT")
	pkg := filepath.Base(mustWd(t))
	if err := os.WriteFile(filepath.Join(out, pkg+".net"), []byte(net.ID()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, pkg+".id"), []byte(c.ID()), 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("KILL") == pkg {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		m, _ := filepath.Glob(filepath.Join(out, "*.id"))
		if len(m) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d packages started", len(m))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The container still serves after another binary died, and a
	// test's own container on the shared network reaches it by alias.
	res, err := c.Exec(t.Context(), []string{"true"})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("exec in the shared container: %v %+v", err, res)
	}
	own := h.Container("busybox:1.36").Cmd("sleep", "600").Network(net).Start()
	res, err = own.Exec(t.Context(), []string{"ping", "-c", "1", "-W", "5", "shared"})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("ping the shared container by alias: %v %+v", err, res)
	}
	if d := os.Getenv("HOLD"); d != "" {
		hold, _ := time.ParseDuration(d)
		time.Sleep(hold)
	}
}

func mustWd(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}
`

func sharedSuite(t *testing.T) string {
	return testenv.GoModule(t, map[string]string{"pa": sharedSuiteTest, "pb": sharedSuiteTest, "pc": sharedSuiteTest})
}

// readIDs returns the container IDs the suite's packages wrote.
func readIDs(t *testing.T, out string) map[string]string {
	t.Helper()
	return readFiles(t, out, ".id")
}

// readFiles returns what the suite's packages wrote to files ending in ext,
// by package.
func readFiles(t *testing.T, out, ext string) map[string]string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(out, "*"+ext))
	require.NoError(t, err)
	ids := map[string]string{}
	for _, f := range m {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		ids[strings.TrimSuffix(filepath.Base(f), ext)] = string(b)
	}
	return ids
}

func distinct(ids map[string]string) []string {
	set := map[string]bool{}
	for _, id := range ids {
		set[id] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// sharedGoTest makes, for a parallel test, the go test command that runs
// sharedSuite's three packages at once with env, each writing what it used
// into out; it returns them with the test's harness.
func sharedGoTest(t *testing.T, env ...string) (h *berth.Harness, out string, cmd *exec.Cmd) {
	t.Helper()
	t.Parallel() // each runs its own go test
	h = berth.New(t)
	dir := sharedSuite(t)
	out = t.TempDir()
	cmd = testenv.GoTest(t, dir, append([]string{"OUT=" + out}, env...), "-count=1", "-p", "3", "./...")
	return h, out, cmd
}

// TestSharedAcrossPackages: three packages run at once by one `go test`
// share one container, and it is gone once the go command exits.
func TestSharedAcrossPackages(t *testing.T) {
	h, out, cmd := sharedGoTest(t)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)
	assertOneSharedRun(t, h.Engine(), out, cmd.Process.Pid, b)
}

// assertOneSharedRun checks that the three packages of the go run with pid
// wrote (into out) one container and one network between them, and that
// both are gone soon after the run ended; output is the run's.
func assertOneSharedRun(t *testing.T, e *engine.Client, out string, pid int, output []byte) {
	t.Helper()
	ids := readIDs(t, out)
	require.Len(t, ids, 3, "%s", output)
	assert.Len(t, distinct(ids), 1, "one container for the run: %v", ids)
	nets := readFiles(t, out, ".net")
	require.Len(t, nets, 3, "%s", output)
	assert.Len(t, distinct(nets), 1, "one network for the run: %v", nets)
	eventuallyNone(t, e, pid, 10*time.Second)
	left, err := e.List(context.Background(), engine.Labelled(engine.LabelRunPID+"="+strconv.Itoa(pid)))
	require.NoError(t, err)
	assert.Empty(t, left, "the run's network and containers go with it")
	_, err = e.Network(context.Background(), distinct(nets)[0])
	assert.ErrorIs(t, err, engine.ErrNotFound, "the run's network goes with it")
}

// TestSharedBinaryKilled: a binary of the run is SIGKILLed after joining;
// the others keep using the container, and it goes when the run ends.
func TestSharedBinaryKilled(t *testing.T) {
	h, out, cmd := sharedGoTest(t, "KILL=pb")
	b, err := cmd.CombinedOutput()
	require.Error(t, err, "pb was killed: go test fails")
	assert.Contains(t, string(b), "ok  \t"+testenv.SuiteModule+"/pa")
	assert.Contains(t, string(b), "ok  \t"+testenv.SuiteModule+"/pc")
	assert.Contains(t, string(b), "FAIL\t"+testenv.SuiteModule+"/pb")
	assertOneSharedRun(t, h.Engine(), out, cmd.Process.Pid, b)
}

// TestSharedGoKilled: the go command itself is SIGKILLed while its test
// binaries hold the container; the reaper removes it all the same.
func TestSharedGoKilled(t *testing.T) {
	h, out, cmd := sharedGoTest(t, "HOLD=60s")
	var output strings.Builder
	cmd.Stdout, cmd.Stderr = &output, &output
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(3 * time.Minute)
	for len(readIDs(t, out)) < 3 {
		select {
		case err := <-exited:
			t.Fatalf("go test ended (%v) before every package started:\n%s", err, output.String())
		case <-deadline:
			t.Fatalf("the packages did not start:\n%s", output.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	require.Len(t, runContainers(t, h.Engine(), cmd.Process.Pid), 2, "the shared container and network")
	require.NoError(t, cmd.Process.Kill()) // the go command only
	<-exited
	eventuallyNone(t, h.Engine(), cmd.Process.Pid, 10*time.Second)
}

// TestSharedOutsideGoTest: a test binary started by hand belongs to no
// run: its shared container is the binary's own, in its session, and goes
// with it.
func TestSharedOutsideGoTest(t *testing.T) {
	t.Parallel() // each runs its own go test
	h := berth.New(t)
	dir := sharedSuite(t)
	out := t.TempDir()
	bin := filepath.Join(t.TempDir(), "pa.test")
	build := testenv.GoTest(t, dir, nil, "-c", "-o", bin, "./pa")
	b, err := build.CombinedOutput()
	require.NoError(t, err, "%s", b)
	for _, f := range []string{"pb.id", "pc.id"} { // no other package runs
		require.NoError(t, os.WriteFile(filepath.Join(out, f), nil, 0o644))
	}
	cmd := exec.Command(bin, "-test.count=1")
	cmd.Dir = filepath.Join(dir, "pa")
	cmd.Env = append(os.Environ(), "OUT="+out)
	b, err = cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)
	id := readIDs(t, out)["pa"]
	require.NotEmpty(t, id)
	// Gone with the binary (its session's cleanup or watchdog), and it
	// was never labelled as a run's.
	deadline := time.Now().Add(10 * time.Second)
	for {
		cs, err := h.Engine().Containers(context.Background(), engine.Filter{"id": {id}})
		require.NoError(t, err)
		if len(cs) == 0 {
			break
		}
		assert.Empty(t, cs[0].Labels[engine.LabelRun])
		assert.Equal(t, strconv.Itoa(cmd.Process.Pid), cs[0].Labels[engine.LabelPID])
		require.True(t, time.Now().Before(deadline), "container %s of a binary run by hand outlived it", id)
		time.Sleep(200 * time.Millisecond)
	}
}

// TestSharedInProcess: tests of one binary get the same container, and a
// different spec gets another.
func TestSharedInProcess(t *testing.T) {
	var ids [3]string
	for i := range ids {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			h := berth.New(t)
			cmd := []string{"sleep", "600"}
			if i == 2 {
				cmd = []string{"sleep", "601"}
			}
			ids[i] = h.Shared().Container("busybox:1.36").Cmd(cmd...).Start().ID()
		})
	}
	assert.Equal(t, ids[0], ids[1])
	assert.NotEqual(t, ids[0], ids[2])
}
