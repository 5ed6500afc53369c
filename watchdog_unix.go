//go:build !windows

package berth

import (
	"os/exec"
	"syscall"
)

// detach puts the watchdog in a process group of its own: a Ctrl-C to the
// test's group must not reach it.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }
