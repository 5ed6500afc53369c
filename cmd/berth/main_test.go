package main

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/runs"
	"github.com/berth-go/berth/internal/wire"
)

// berthBinary builds the command once per test binary.
func berthBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "berth")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

func runBin(t *testing.T, bin string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return string(out), code
}

func TestDoctorAndPruneOnRealEngine(t *testing.T) {
	bin := berthBinary(t)
	ctx := context.Background()
	c, err := wire.New()
	require.NoError(t, err)
	session := "cli-test-" + strings.ReplaceAll(t.Name(), "/", "-") + "-" + itoa(os.Getpid()) // unique to this run
	mk := func(labels map[string]string) string {
		resp, err := c.ContainerCreate(ctx, "", &wire.ContainerConfig{Image: "busybox:1.36", Cmd: []string{"sleep", "3600"}, Labels: labels}, "")
		require.NoError(t, err)
		t.Cleanup(func() { c.ContainerRemove(context.Background(), resp.ID, wire.RemoveOptions{Force: true}) })
		return resp.ID
	}
	// A leftover of a dead test process, and an unlabelled container that
	// prune must never touch.
	leftover := mk(map[string]string{engine.LabelSession: session, engine.LabelPID: "999999999", engine.LabelTest: "TestGone"})
	netID, err := c.NetworkCreate(ctx, wire.NetworkCreate{Name: session + "-net", Labels: map[string]string{engine.LabelSession: session, engine.LabelPID: "999999999"}})
	require.NoError(t, err)
	t.Cleanup(func() { c.NetworkRemove(context.Background(), netID) })
	unlabelled := mk(map[string]string{"app": "not-berth"})
	// A session whose process (this test) is alive is kept without -force.
	alive := mk(map[string]string{engine.LabelSession: session + "-alive", engine.LabelPID: itoa(os.Getpid())})

	t.Setenv("DOCKER_CONFIG", t.TempDir())
	out, code := runBin(t, bin, nil, "doctor", "-registry", "localhost:5000")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "status:      ok")
	assert.Contains(t, out, "buildkit:    yes", "the test engine offers BuildKit")
	assert.Contains(t, out, "localhost:5000")
	assert.Contains(t, out, "session "+session+": 2 resources")
	assert.Contains(t, out, "process gone")
	assert.Regexp(t, `berth prune removes the \d+ of ended processes; the \d+ of running ones need -force`, out, "a live session's resources are not promised to prune")

	out, code = runBin(t, bin, nil, "prune", "-session", session, "-dry-run")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "would remove container")
	assert.Contains(t, out, "would remove network "+session+"-net")
	assert.Contains(t, out, "2 would be removed, 0 kept")
	_, err = c.ContainerInspect(ctx, leftover)
	require.NoError(t, err, "dry run removed something")

	// A dry run over a live session says why nothing would go.
	out, code = runBin(t, bin, nil, "prune", "-session", session+"-alive", "-dry-run")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "0 would be removed, 1 kept: 1 of sessions or go test runs whose process still runs (-force removes them)")

	out, code = runBin(t, bin, nil, "prune", "-session", session, "-older-than", "1h")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "0 removed, 2 kept: 2 younger than 1h0m0s")

	// Scoped to this test's sessions: a bare `berth prune` here would also
	// take resources of other packages' tests running at the same time.
	out, code = runBin(t, bin, nil, "prune", "-session", session)
	assert.Equal(t, 0, code, out)
	out, code = runBin(t, bin, nil, "prune", "-session", session+"-alive")
	assert.Equal(t, 0, code, out)
	_, err = c.ContainerInspect(ctx, leftover)
	assert.ErrorIs(t, err, wire.ErrNotFound, out)
	_, err = c.NetworkInspect(ctx, netID)
	assert.ErrorIs(t, err, wire.ErrNotFound, out)
	_, err = c.ContainerInspect(ctx, unlabelled)
	assert.NoError(t, err, "prune touched an unlabelled container")
	_, err = c.ContainerInspect(ctx, alive)
	assert.NoError(t, err, "prune removed a live session's container without -force")

	out, code = runBin(t, bin, nil, "prune", "-session", session+"-alive", "-force")
	assert.Equal(t, 0, code, out)
	_, err = c.ContainerInspect(ctx, alive)
	assert.ErrorIs(t, err, wire.ErrNotFound)
}

func TestDoctorEngineDown(t *testing.T) {
	bin := berthBinary(t)
	out, code := runBin(t, bin, []string{"DOCKER_HOST=unix:///nonexistent/docker.sock"}, "doctor")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "unreachable")
	assert.Contains(t, out, "make engine")
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"prune", "-older-than", "soon"}, {"prune", "extra"}, {"prune", "-reuse", "-cache"}} {
		code := run(args, &strings.Builder{}, &strings.Builder{})
		assert.NotEqual(t, 0, code, "%v", args)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestDoctorNamesCredentialSourcesNeverSecrets(t *testing.T) {
	bin := berthBinary(t)
	dir := t.TempDir()
	const secret = "s3cr3t-doctor-pw"
	auth := base64.StdEncoding.EncodeToString([]byte("ci:" + secret))
	config := `{"auths": {"localhost:5000": {"auth": "` + auth + `", "identitytoken": "s3cr3t-doctor-token"}}}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o600))
	out, code := runBin(t, bin, []string{"DOCKER_CONFIG=" + dir, "DOCKER_AUTH_CONFIG="}, "doctor", "-registry", "localhost:5000", "-registry", "docker.io")
	assert.Equal(t, 0, code, out)
	assert.Regexp(t, `localhost:5000\s+config.json auths`, out)
	assert.Regexp(t, `docker.io\s+anonymous`, out)
	assert.NotContains(t, out, secret)
	assert.NotContains(t, out, "s3cr3t-doctor-token")
	assert.NotContains(t, out, auth)

	// A broken config is reported with its path, not its content.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths": {"x": {"auth": "`+auth+`"`), 0o600))
	out, _ = runBin(t, bin, []string{"DOCKER_CONFIG=" + dir, "DOCKER_AUTH_CONFIG="}, "doctor", "-registry", "localhost:5000")
	assert.Contains(t, out, filepath.Join(dir, "config.json"))
	assert.NotContains(t, out, auth)
}

// prune judges a PID only where it names the same process (this host and
// PID namespace); elsewhere, and past a lease, the lease decides.
func TestPruneJudgesLivenessOnlyWhereItCan(t *testing.T) {
	bin := berthBinary(t)
	ctx := context.Background()
	c, err := wire.New()
	require.NoError(t, err)
	base := "cli-lease-" + itoa(os.Getpid())
	host, err := os.Hostname()
	require.NoError(t, err)
	pidns, err := os.Readlink("/proc/self/ns/pid")
	require.NoError(t, err)
	future := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	past := strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10)
	mk := func(session string, labels map[string]string) string {
		labels[engine.LabelSession] = base + "-" + session
		resp, err := c.ContainerCreate(ctx, "", &wire.ContainerConfig{Image: "busybox:1.36", Cmd: []string{"sleep", "3600"}, Labels: labels}, "")
		require.NoError(t, err)
		t.Cleanup(func() { c.ContainerRemove(context.Background(), resp.ID, wire.RemoveOptions{Force: true}) })
		return resp.ID
	}
	me := itoa(os.Getpid())
	ids := map[string]string{
		// Another machine's session, leased: its PID means nothing here.
		"remote": mk("remote", map[string]string{engine.LabelPID: "1", engine.LabelHost: "ci-runner-elsewhere", engine.LabelPIDNS: pidns, engine.LabelExpires: future}),
		// Another PID namespace on this host (a container), leased.
		"otherns": mk("otherns", map[string]string{engine.LabelPID: "1", engine.LabelHost: host, engine.LabelPIDNS: "pid:[1]", engine.LabelExpires: future}),
		// This process's PID, but the lease has ended: the PID was reused.
		"reused": mk("reused", map[string]string{engine.LabelPID: me, engine.LabelHost: host, engine.LabelPIDNS: pidns, engine.LabelExpires: past}),
		// Another machine's session whose lease has ended.
		"remote-expired": mk("remote-expired", map[string]string{engine.LabelPID: "1", engine.LabelHost: "ci-runner-elsewhere", engine.LabelExpires: past}),
	}
	for name, id := range ids {
		out, code := runBin(t, bin, nil, "prune", "-session", base+"-"+name)
		assert.Equal(t, 0, code, out)
		_, err := c.ContainerInspect(ctx, id)
		switch name {
		case "remote", "otherns":
			assert.NoError(t, err, "%s: removed though its lease runs: %s", name, out)
			assert.Contains(t, out, "1 kept", name)
		default:
			assert.ErrorIs(t, err, wire.ErrNotFound, "%s: kept past its lease: %s", name, out)
		}
	}
	out, code := runBin(t, bin, nil, "doctor")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "on ci-runner-elsewhere (another host or PID namespace), lease ends in")
}

// What `go test` runs share (Harness.Shared) is listed by run, and pruned
// once its run is over: a live run's containers stay unless -force.
func TestDoctorAndPruneRuns(t *testing.T) {
	bin := berthBinary(t)
	ctx := context.Background()
	c, err := wire.New()
	require.NoError(t, err)
	start, ok := runs.ProcStart(os.Getpid())
	require.True(t, ok)
	prefix := "clitest" + itoa(os.Getpid())
	mk := func(key, pid, start string) string {
		labels := map[string]string{
			engine.LabelRun: key, engine.LabelRunPID: pid, engine.LabelRunStart: start,
			engine.LabelRunHost: runs.HostKey(), engine.LabelRunBoot: runs.BootID(),
			engine.LabelRunExpires: strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10),
		}
		resp, err := c.ContainerCreate(ctx, "", &wire.ContainerConfig{Image: "busybox:1.36", Cmd: []string{"sleep", "3600"}, Labels: labels}, "")
		require.NoError(t, err)
		t.Cleanup(func() { c.ContainerRemove(context.Background(), resp.ID, wire.RemoveOptions{Force: true}) })
		return resp.ID
	}
	ended := mk(prefix+"ended", "999999999", "1")
	live := mk(prefix+"live", itoa(os.Getpid()), start)

	out, code := runBin(t, bin, nil, "doctor")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "run "+prefix+"ended: 1 resources, ended")
	assert.Contains(t, out, "run "+prefix+"live: 1 resources, go process "+itoa(os.Getpid())+" running")
	assert.Regexp(t, `shared: +\d+ resources of \d+ go test runs \(\d+ of ended runs: remove with berth prune -runs\)`, out)

	out, code = runBin(t, bin, nil, "prune", "-run", prefix+"live")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "0 removed, 1 kept")
	_, err = c.ContainerInspect(ctx, live)
	require.NoError(t, err, "prune removed a live run's container")

	out, code = runBin(t, bin, nil, "prune", "-run", prefix+"ended")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "1 removed")
	_, err = c.ContainerInspect(ctx, ended)
	assert.ErrorIs(t, err, wire.ErrNotFound, out)

	out, code = runBin(t, bin, nil, "prune", "-run", prefix+"live", "-force")
	assert.Equal(t, 0, code, out)
	_, err = c.ContainerInspect(ctx, live)
	assert.ErrorIs(t, err, wire.ErrNotFound, out)

	_, code = runBin(t, bin, nil, "prune", "-runs", "-cache")
	assert.Equal(t, 2, code)
}
