package berth

import (
	"context"
	"io"
	"os"
	"os/exec"
	"syscall"
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
	cmd  *exec.Cmd
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
	// Its own process group: a Ctrl-C to the test's group must not reach
	// it. No stdout/stderr: go test waits for those to close.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
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
	w.pipe.Write([]byte(watchdogRelease))
	w.pipe.Close()
}

func runWatchdog(session, host string, parent io.Reader) int {
	buf := make([]byte, len(watchdogRelease))
	n, _ := io.ReadFull(parent, buf)
	if string(buf[:n]) == watchdogRelease {
		return 0
	}
	io.Copy(io.Discard, parent)
	var opts []engine.Option
	if host != "" {
		opts = append(opts, engine.WithHost(host))
	}
	c, err := engine.New(opts...)
	if err != nil {
		return 1
	}
	// Sweep at once, and again shortly after, for creates the parent had in
	// flight when it died.
	for _, delay := range []time.Duration{0, 2 * time.Second, 3 * time.Second} {
		time.Sleep(delay)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		c.RemoveSession(ctx, session)
		cancel()
	}
	return 0
}
