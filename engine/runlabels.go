package engine

import (
	"strconv"
	"time"

	"github.com/berth-go/berth/internal/runs"
)

// Labels of containers shared by the test binaries of one `go test` run
// (berth's Harness.Shared). They carry no LabelSession: no binary's
// session owns them; the run's reaper, or a later run, removes them.
const (
	// LabelRun holds the run's key: a hash of the `go` command's process
	// (host, boot, pid, start time).
	LabelRun = "berth.run"
	// LabelRunPID and LabelRunStart say which `go` process the run is, so
	// a later run on the same host can tell that it ended.
	LabelRunPID   = "berth.run.pid"
	LabelRunStart = "berth.run.start"
	// LabelRunHost and LabelRunBoot say where and in which boot that
	// process ran: a pid means nothing on another host or after a reboot.
	LabelRunHost = "berth.run.host"
	LabelRunBoot = "berth.run.boot"
	// LabelRunExpires is when (Unix seconds) any later run may remove the
	// container, even one on another host that cannot check the process.
	LabelRunExpires = "berth.run.expires"
)

// RunSelector is the label selector of one run's shared containers.
func RunSelector(run string) string { return LabelRun + "=" + run }

// RunEnded reports whether the `go test` run that shares r (its LabelRun*
// labels) has ended, seen from this host at now: past its expiry, it has;
// made on this host in an earlier boot, it has; in this boot, when its `go`
// process is gone (a later process with the same pid is another one); made
// on another host, not before its expiry. A resource of no run has none to
// end: false.
func (r Resource) RunEnded(now time.Time) bool {
	if r.Labels[LabelRun] == "" {
		return false
	}
	if exp, err := strconv.ParseInt(r.Labels[LabelRunExpires], 10, 64); err == nil && now.Unix() > exp {
		return true
	}
	if r.Labels[LabelRunHost] != runs.HostKey() {
		return false
	}
	if r.Labels[LabelRunBoot] != runs.BootID() {
		return true
	}
	pid, err := strconv.Atoi(r.Labels[LabelRunPID])
	if err != nil {
		return false
	}
	return !runs.Alive(pid, r.Labels[LabelRunStart])
}
