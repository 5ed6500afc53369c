package berth

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/berth-go/berth/engine"
)

// The watchdog is the test binary itself, re-executed with these variables
// set. It holds the read end of a pipe whose write end only the parent has;
// when the parent dies for any reason the pipe reports EOF and the watchdog
// removes everything labelled with the session.
const (
	envWatchdog     = "BERTH_WATCHDOG_SESSION"
	envWatchdogHost = "BERTH_WATCHDOG_HOST"
	watchdogRelease = "release\n"
)

func init() {
	if id := os.Getenv(envWatchdog); id != "" {
		os.Exit(runWatchdog(id, os.Getenv(envWatchdogHost), os.Stdin))
	}
}

type watchdog struct {
	cmd *exec.Cmd

	mu   sync.Mutex
	pipe *os.File
}

func startWatchdog(session, host string) (*watchdog, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envWatchdog+"="+session, envWatchdogHost+"="+host)
	cmd.Stdin = r
	// No stdout/stderr: go test waits for those to close.
	detach(cmd)
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	r.Close()
	go cmd.Wait() // reap when it exits
	return &watchdog{cmd: cmd, pipe: w}, nil
}

// release tells the watchdog the session closed cleanly.
func (w *watchdog) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pipe.Write([]byte(watchdogRelease))
	w.pipe.Close()
}

// note tells the watchdog of something the session's labels do not find
// (an image tag, a temporary directory) that it must remove if the
// process dies; forget says the session removed it itself.
func (w *watchdog) note(kind, value string, keep bool) {
	if w == nil || strings.ContainsAny(value, "\n") {
		return
	}
	if !keep {
		kind = "-" + kind
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.pipe, "%s %s\n", kind, value)
}

// watchdogSweeps are the delays between the watchdog's sweeps after the
// parent died: creates the parent had in flight can finish many seconds
// later on a loaded engine, and each sweep removes what has appeared.
var watchdogSweeps = []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 10 * time.Second, 10 * time.Second}

func runWatchdog(session, host string, parent io.Reader) int {
	images, kept := map[string]bool{}, map[string]bool{}
	var dirs []string
	sc := bufio.NewScanner(parent)
	for sc.Scan() {
		kind, value, _ := strings.Cut(sc.Text(), " ")
		switch kind {
		case strings.TrimSuffix(watchdogRelease, "\n"):
			return 0
		case "image":
			images[value] = true
		case "-image":
			delete(images, value)
		case "dir":
			dirs = append(dirs, value)
		case "keep":
			kept[value] = true
		}
	}
	for _, d := range dirs {
		os.RemoveAll(d)
	}
	c, err := engineAt(host)
	if err != nil {
		return 1
	}
	for i, delay := range watchdogSweeps {
		time.Sleep(delay)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if rs, err := c.List(ctx, engine.Labelled(engine.SessionSelector(session))); err == nil {
			var gone []engine.Resource
			for _, r := range rs {
				if !kept[r.ID] {
					gone = append(gone, r)
				}
			}
			c.RemoveAll(ctx, gone)
		}
		if i == 0 {
			for ref := range images {
				c.Remove(ctx, engine.Resource{Kind: engine.KindImage, ID: ref})
			}
		}
		cancel()
	}
	return 0
}

// engineAt is a client for the engine at host, or for the environment's
// engine when host is empty: how a watchdog or reaper process, started
// with its parent's host, reaches the same engine.
func engineAt(host string) (*engine.Client, error) {
	var opts []engine.Option
	if host != "" {
		opts = append(opts, engine.WithHost(host))
	}
	return engine.New(opts...)
}
