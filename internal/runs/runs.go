// Package runs tells which `go test` run made a run-shared resource and
// whether that run has ended, for the harness (which joins and sweeps
// runs) and the berth command (which lists and prunes them).
package runs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/berth-go/berth/engine"
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

// Ended reports whether the run a resource's labels name has ended, seen
// from host (a HostKey) in boot: past its expiry, it has; on this host,
// from an earlier boot, it has; in this boot, when its `go` process is
// gone; from another host, not before its expiry.
func Ended(labels map[string]string, host, boot string, now time.Time) bool {
	if exp, err := strconv.ParseInt(labels[engine.LabelRunExpires], 10, 64); err == nil && now.Unix() > exp {
		return true
	}
	if labels[engine.LabelRunHost] != host {
		return false
	}
	if labels[engine.LabelRunBoot] != boot {
		return true
	}
	pid, err := strconv.Atoi(labels[engine.LabelRunPID])
	if err != nil {
		return false
	}
	return !Alive(pid, labels[engine.LabelRunStart])
}
