package berth

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/runs"
)

// fakeProc makes a /proc with process pid running cmdline (NUL-separated)
// since start ticks, and points runs.ProcRoot at it for the test.
func fakeProc(t *testing.T, pid int, cmdline, start string) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stat := strconv.Itoa(pid) + " (go test) S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 12 0 " + start + " 0 0"
	os.WriteFile(filepath.Join(dir, "cmdline"), []byte(cmdline), 0o644)
	os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644)
	old := runs.ProcRoot
	runs.ProcRoot = root
	t.Cleanup(func() { runs.ProcRoot = old })
}

func TestDetectRun(t *testing.T) {
	for _, tc := range []struct {
		cmdline string
		want    bool
	}{
		{"go\x00test\x00./...\x00", true},
		{"/usr/local/go/bin/go\x00test\x00-p\x002\x00./...\x00", true},
		{"go\x00vet\x00./...\x00", false},
		{"bash\x00-c\x00go test\x00", false},
		{"dlv\x00test\x00", false},
		{"go\x00", false},
	} {
		fakeProc(t, 4242, tc.cmdline, "777")
		r, ok := detectRun(4242)
		if ok != tc.want {
			t.Errorf("%q: in a run %v, want %v", tc.cmdline, ok, tc.want)
		}
		if ok && (r.pid != 4242 || r.start != "777" || len(r.key) != 32 || !r.alive()) {
			t.Errorf("%q: %+v", tc.cmdline, r)
		}
	}
	if _, ok := detectRun(4343); ok {
		t.Error("a parent that is gone is no run")
	}
}

func TestRunEnded(t *testing.T) {
	fakeProc(t, 4242, "go\x00test\x00", "777")
	host, boot := runs.HostKey(), runs.BootID()
	future := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	past := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	shared := func(host, boot, pid, start, expires string) engine.Resource {
		return engine.Resource{Labels: map[string]string{engine.LabelRun: "k", engine.LabelRunHost: host, engine.LabelRunBoot: boot, engine.LabelRunPID: pid, engine.LabelRunStart: start, engine.LabelRunExpires: expires}}
	}
	for _, tc := range []struct {
		name string
		r    engine.Resource
		want bool
	}{
		{"its go still runs", shared(host, boot, "4242", "777", future), false},
		{"its go ended", shared(host, boot, "4343", "777", future), true},
		{"its pid was reused", shared(host, boot, "4242", "555", future), true},
		{"an earlier boot", shared(host, boot+"0", "4242", "777", future), true},
		{"its go still runs, expired", shared(host, boot, "4242", "777", past), true},
		{"another host, not expired", shared(host+"2", "b9", "1", "1", future), false},
		{"another host, expired", shared(host+"2", "b9", "1", "1", past), true},
		{"no run", engine.Resource{Labels: map[string]string{engine.LabelRunExpires: past}}, false},
	} {
		if got := tc.r.RunEnded(time.Now()); got != tc.want {
			t.Errorf("%s: ended %v, want %v", tc.name, got, tc.want)
		}
	}
}
