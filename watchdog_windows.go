package berth

import (
	"os/exec"
	"syscall"
)

// detach puts the watchdog in a process group of its own: a Ctrl-C (or
// Ctrl-Break) to the test's console group must not reach it.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}
