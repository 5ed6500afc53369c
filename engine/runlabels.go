package engine

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
