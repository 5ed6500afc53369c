// Package runs reads what names a `go test` run on this host: a process's
// start time, whether it still runs, the host and the boot. The harness
// labels run-shared resources with them (engine.LabelRun*), and
// engine.Resource.RunEnded reads them back.
package runs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ProcRoot is where the process table is read; tests point it at a fake.
var ProcRoot = "/proc"

// ProcStart is the start time of process pid in clock ticks since boot
// (/proc/<pid>/stat field 22).
func ProcStart(pid int) (string, bool) {
	stat, err := os.ReadFile(filepath.Join(ProcRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return "", false
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return "", false
	}
	fields := strings.Fields(string(stat[i+1:]))
	// fields[0] is field 3 (state); the start time is field 22.
	if len(fields) < 20 {
		return "", false
	}
	return fields[19], true
}

// Alive reports whether process pid runs and started at start: a later
// process given the same pid is another one.
func Alive(pid int, start string) bool {
	s, ok := ProcStart(pid)
	return ok && s == start
}

// HostKey is a hash of this host's name and PID namespace.
func HostKey() string {
	name, _ := os.Hostname()
	ns, _ := os.Readlink(filepath.Join(ProcRoot, "self/ns/pid"))
	sum := sha256.Sum256([]byte(name + "\x00" + ns))
	return hex.EncodeToString(sum[:8])
}

// BootID names this boot of the host.
func BootID() string {
	b, _ := os.ReadFile(filepath.Join(ProcRoot, "sys/kernel/random/boot_id"))
	return strings.TrimSpace(string(b))
}
