package berth

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/flock"
	"github.com/berth-go/berth/internal/link"
	"github.com/berth-go/berth/internal/runs"
)

// run is the `go test` run this test binary belongs to: its parent `go`
// process, told apart from a later process with the same pid by its start
// time, and from other hosts and boots.
type run struct {
	key   string // hash of host, boot, pid, start
	pid   int
	start string // clock ticks since boot, /proc/<pid>/stat field 22
	host  string // hash of host name and pid namespace
	boot  string // /proc/sys/kernel/random/boot_id
}

var (
	runOnce   sync.Once
	theRun    run
	theRunOK  bool
	runParent = os.Getppid
)

// currentRun reports the `go test` run of this binary: its parent is a
// `go test` command. A binary started by hand, through -exec or by an IDE
// has another parent and belongs to no run.
func currentRun() (run, bool) {
	runOnce.Do(func() {
		if os.Getenv(envShared) == "binary" {
			return
		}
		theRun, theRunOK = detectRun(runParent())
	})
	return theRun, theRunOK
}

func detectRun(ppid int) (run, bool) {
	cmdline, err := os.ReadFile(filepath.Join(runs.ProcRoot, strconv.Itoa(ppid), "cmdline"))
	if err != nil {
		return run{}, false
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(args) < 2 || filepath.Base(args[0]) != "go" || args[1] != "test" {
		return run{}, false
	}
	start, ok := runs.ProcStart(ppid)
	if !ok {
		return run{}, false
	}
	r := run{pid: ppid, start: start, host: runs.HostKey(), boot: runs.BootID()}
	r.key = inputHash(r.host, r.boot, strconv.Itoa(r.pid), r.start)[:32]
	return r, true
}

// alive reports whether the run's `go` process still runs.
func (r run) alive() bool { return runs.Alive(r.pid, r.start) }

func (r run) labels() map[string]string {
	return map[string]string{
		engine.LabelRun:        r.key,
		engine.LabelRunPID:     strconv.Itoa(r.pid),
		engine.LabelRunStart:   r.start,
		engine.LabelRunHost:    r.host,
		engine.LabelRunBoot:    r.boot,
		engine.LabelRunExpires: strconv.FormatInt(r.started().Add(runExpiry).Unix(), 10),
	}
}

// started is when the `go` process started: the same for every binary of
// the run, so their specs (labels included) are equal. Linux counts the
// start in USER_HZ ticks since boot, 100 a second on every architecture Go
// supports.
func (r run) started() time.Time {
	ticks, err := strconv.ParseInt(r.start, 10, 64)
	stat, ferr := os.ReadFile(filepath.Join(runs.ProcRoot, "stat"))
	if err != nil || ferr != nil {
		return time.Now()
	}
	for _, line := range strings.Split(string(stat), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			if btime, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return time.Unix(btime+ticks/100, 0)
			}
		}
	}
	return time.Now()
}

// The reaper is the test binary re-executed with envRunReaper set, in its
// own process group and with no output (go test waits for its children's
// output to close). Every binary of the run that uses a shared container
// starts one; the first holds the run's reaper lock and the others exit at
// once. It watches the `go` process and, when that ends, removes every
// container and volume labelled with the run. On its way in it also removes
// what ended runs left (a machine that died, a reaper that was killed).
const (
	envRunReaper     = "BERTH_RUN_REAPER"      // run key
	envRunReaperPID  = "BERTH_RUN_REAPER_PID"  // the go process
	envRunReaperTime = "BERTH_RUN_REAPER_TIME" // its start time
	envRunReaperHost = "BERTH_RUN_REAPER_HOST" // the engine
)

func init() {
	if key := os.Getenv(envRunReaper); key != "" {
		pid, _ := strconv.Atoi(os.Getenv(envRunReaperPID))
		r := run{key: key, pid: pid, start: os.Getenv(envRunReaperTime), host: runs.HostKey(), boot: runs.BootID()}
		os.Exit(runReaper(r, os.Getenv(envRunReaperHost)))
	}
}

var (
	reaperMu      sync.Mutex
	reaperStarted = map[string]bool{}
)

// ensureReaper starts this binary's candidate reaper for run r, once.
func ensureReaper(s *Session, r run) error {
	reaperMu.Lock()
	defer reaperMu.Unlock()
	if reaperStarted[r.key] {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, "-test.run=^$")
	env := make([]string, 0, len(os.Environ())+4)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envWatchdog+"=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		envRunReaper+"="+r.key,
		envRunReaperPID+"="+strconv.Itoa(r.pid),
		envRunReaperTime+"="+r.start,
		envRunReaperHost+"="+link.Wire(s.client).Endpoint().Host)
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	reaperStarted[r.key] = true
	return nil
}

// reaperPoll is how often the reaper looks at the `go` process.
const reaperPoll = 200 * time.Millisecond

func runReaper(r run, host string) int {
	unlock, ok, err := flock.TryLock(filepath.Join(os.TempDir(), "berth-run-"+r.key[:16]+".reaper"))
	if err != nil {
		return 1
	}
	if !ok {
		return 0 // another binary's reaper watches the run
	}
	defer unlock()
	c, err := engineAt(host)
	if err != nil {
		return 1
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	sweepEndedRuns(ctx, c, r)
	cancel()
	for r.alive() {
		time.Sleep(reaperPoll)
	}
	// Again shortly after, for creates a binary had in flight.
	for _, delay := range []time.Duration{0, 2 * time.Second} {
		time.Sleep(delay)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		sweepRun(ctx, c, r.key)
		cancel()
	}
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), "berth-run-"+r.key[:16]+"*"))
	for _, m := range matches {
		os.Remove(m)
	}
	return 0
}

// sweepRun removes the containers and volumes of run key.
func sweepRun(ctx context.Context, c *engine.Client, key string) error {
	rs, err := c.List(ctx, engine.Labelled(engine.RunSelector(key)))
	if err != nil {
		return err
	}
	return c.RemoveAll(ctx, rs)
}

// sweepEndedRuns removes the shared containers of runs other than r that
// ended: on this host and boot, their `go` process is gone; from another
// boot of this host, all; from elsewhere, those past their expiry.
func sweepEndedRuns(ctx context.Context, c *engine.Client, r run) {
	// Networks too: a run's shared network can outlive its containers.
	cs, err := c.List(ctx, engine.Labelled(engine.LabelRun))
	if err != nil {
		return
	}
	ended := map[string]bool{}
	for _, x := range cs {
		key := x.Labels[engine.LabelRun]
		if key == r.key || ended[key] {
			continue
		}
		if x.RunEnded(time.Now()) {
			ended[key] = true
		}
	}
	for key := range ended {
		sweepRun(ctx, c, key)
	}
}

// String names the run for messages.
func (r run) String() string {
	return fmt.Sprintf("go test run (pid %d)", r.pid)
}
