package berth_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/wait"
)

const busybox = "busybox:1.36"

func TestMain(m *testing.M) {
	switch mode := os.Getenv("BERTH_LEAK_MODE"); mode {
	case "", "timeout", "goroutine-fatal":
		berth.Main(m)
	default:
		os.Exit(leakHelper(mode))
	}
}

// TestLeakHelper runs only as the child of TestCrashSafety, as a real test
// that times out or calls t.Fatal from a goroutine.
func TestLeakHelper(t *testing.T) {
	mode := os.Getenv("BERTH_LEAK_MODE")
	if mode == "" {
		t.Skip("runs only as a child of TestCrashSafety")
	}
	h := berth.New(t)
	c := sleeper(h).Start()
	fmt.Printf("session %s container %s\n", h.Session().ID(), c.ID())
	os.Stdout.Sync()
	if mode == "goroutine-fatal" {
		done := make(chan struct{})
		// Through a func value: the mistake this simulates is what go vet
		// would flag in real code.
		fatal := t.Fatal
		go func() {
			defer close(done)
			fatal("fatal from a goroutine")
		}()
		<-done
	}
	time.Sleep(time.Minute) // -test.timeout ends the binary first
}

// sleeper is a busybox container that stays up and ignores SIGTERM, like
// many real services' PID 1.
func sleeper(h *berth.Harness) *berth.ContainerBuilder {
	return h.Container(busybox).Cmd("sh", "-c", "trap '' TERM; echo started; while true; do sleep 1; done")
}

func TestContainerExecCopyLogs(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := h.Container(busybox).
		Env("GREETING", "hello").
		Cmd("sh", "-c", "echo out-$GREETING; echo err-line >&2; exec sleep 3600").
		FileContent("/etc/berth/config.txt", []byte("from-bytes\n"), 0o600).
		Label("app", "exec-test").
		WorkDir("/tmp").
		Hostname("berthhost").
		Start()

	res, err := c.Exec(ctx, []string{"sh", "-c", "cat /etc/berth/config.txt; hostname; pwd; echo to-stderr >&2; exit 7"})
	require.NoError(t, err)
	assert.Equal(t, 7, res.ExitCode)
	assert.Equal(t, "from-bytes\nberthhost\n/tmp\n", string(res.Stdout))
	assert.Equal(t, "to-stderr\n", string(res.Stderr))

	res, err = c.ExecWith(ctx, []string{"sh", "-c", "cat; echo user=$(id -u) v=$V"}, container.ExecOptions{
		Stdin: strings.NewReader("piped stdin\n"), Env: map[string]string{"V": "x"}, User: "65534",
	})
	require.NoError(t, err)
	assert.Equal(t, "piped stdin\nuser=65534 v=x\n", string(res.Stdout))

	st, err := c.Exec(ctx, []string{"stat", "-c", "%a", "/etc/berth/config.txt"})
	require.NoError(t, err)
	assert.Equal(t, "600\n", string(st.Stdout))

	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "a.txt"), []byte("A"), 0o644))
	require.NoError(t, os.Symlink("sub/a.txt", filepath.Join(dir, "link")))
	require.NoError(t, c.CopyTo(ctx, dir, "/data/in"))
	got, err := c.ReadFile(ctx, "/data/in/sub/a.txt")
	require.NoError(t, err)
	assert.Equal(t, "A", string(got))
	lres, err := c.Exec(ctx, []string{"readlink", "/data/in/link"})
	require.NoError(t, err)
	assert.Equal(t, "sub/a.txt\n", string(lres.Stdout))

	out := t.TempDir()
	require.NoError(t, c.CopyDirFrom(ctx, "/data/in", out))
	back, err := os.ReadFile(filepath.Join(out, "in", "sub", "a.txt"))
	require.NoError(t, err)
	assert.Equal(t, "A", string(back))

	logs, err := c.LogsSnapshot(ctx)
	require.NoError(t, err)
	assert.Equal(t, "out-hello\n", string(logs.Stdout))
	assert.Equal(t, "err-line\n", string(logs.Stderr))

	d, err := c.Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, "exec-test", d.Labels["app"])
	assert.NotEmpty(t, d.Labels[engine.LabelSession])
	assert.Equal(t, t.Name(), d.Labels[engine.LabelTest])
	assert.Equal(t, fmt.Sprint(os.Getpid()), d.Labels[engine.LabelPID])
}

func TestContainerPortsAndLifecycle(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := h.Container(busybox).
		Cmd("sh", "-c", "mkdir -p /www && echo page > /www/index.html && exec httpd -f -p 8080 -h /www").
		Port("8080/tcp").
		Start()
	url := c.Endpoint(ctx, "8080/tcp")
	assert.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)
	get := func() (string, error) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := http.Get(url + "/index.html")
			if err == nil {
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return string(b), nil
			}
			if time.Now().After(deadline) {
				return "", err
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	body, err := get()
	require.NoError(t, err)
	assert.Equal(t, "page\n", body)

	_, err = c.MappedPort(ctx, "9999/tcp")
	assert.ErrorIs(t, err, container.ErrInvalidSpec)

	before, err := c.MappedPort(ctx, "8080")
	require.NoError(t, err)
	require.NoError(t, c.Pause(ctx))
	st, err := c.State(ctx)
	require.NoError(t, err)
	assert.Equal(t, "paused", st.Status)
	require.NoError(t, c.Unpause(ctx))

	require.NoError(t, c.Restart(ctx, 0))
	after, err := c.MappedPort(ctx, "8080/tcp")
	require.NoError(t, err)
	assert.Equal(t, before, after, "Restart keeps the host port")
	url = c.Endpoint(ctx, "8080/tcp")
	body, err = get()
	require.NoError(t, err)
	assert.Equal(t, "page\n", body)

	require.NoError(t, c.Stop(ctx, 0))
	st, err = c.State(ctx)
	require.NoError(t, err)
	assert.False(t, st.Running)
	require.NoError(t, c.Start(ctx))
	require.NoError(t, c.Start(ctx), "starting a running container is no error, as with docker start")
	require.NoError(t, c.Kill(ctx, "SIGKILL"))
	code, err := c.Wait(ctx, "not-running")
	require.NoError(t, err)
	assert.Equal(t, 137, code)
	require.NoError(t, c.Remove(ctx))
	_, err = c.State(ctx)
	assert.ErrorIs(t, err, wire.ErrNotFound)
}

func TestMountsAndLimits(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	hostDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(hostDir, "bound.txt"), []byte("bound"), 0o644))
	writer := h.Container(busybox).
		Cmd("sh", "-c", "echo shared > /vol/x; cat /bind/bound.txt > /tmp/t; exec sleep 3600").
		BindMount(hostDir, "/bind", true).
		VolumeMount("data", "/vol").
		TmpfsMount("/tmp", 1<<20).
		Memory(64<<20).
		CPUs(0.5).
		ExtraHost("db.example", "10.1.2.3").
		Start()
	reader := h.Container(busybox).Cmd("sleep", "3600").VolumeMount("data", "/vol").Start()
	require.Eventually(t, func() bool {
		res, err := reader.Exec(ctx, []string{"cat", "/vol/x"})
		return err == nil && string(res.Stdout) == "shared\n"
	}, 10*time.Second, 20*time.Millisecond)
	res, err := writer.Exec(ctx, []string{"sh", "-c", "cat /tmp/t; grep db.example /etc/hosts; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; touch /bind/ro 2>&1 || echo ro"})
	require.NoError(t, err)
	out := string(res.Stdout)
	assert.Contains(t, out, "bound")
	assert.Contains(t, out, "10.1.2.3")
	assert.Contains(t, out, fmt.Sprint(64<<20))
	assert.Contains(t, out, "ro")
}

func TestFollowLogsEndsOnStop(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := h.Container(busybox).Cmd("sh", "-c", "for i in 1 2 3; do echo line$i; done; echo warn >&2; exec sleep 3600").Start()
	var lines []container.LogLine
	done := make(chan error, 1)
	var n atomic.Int32
	go func() {
		done <- c.FollowLogs(ctx, func(l container.LogLine) {
			lines = append(lines, l)
			n.Add(1)
		})
	}()
	require.Eventually(t, func() bool { return n.Load() == 4 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, c.Stop(ctx, 0))
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("FollowLogs did not return after the container stopped")
	}
	assert.Contains(t, lines, container.LogLine{Stream: "stderr", Text: "warn"})
	assert.Contains(t, lines, container.LogLine{Stream: "stdout", Text: "line3"})
}

func TestBadInputIsTypedAndLeavesNothing(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	name := "berth-dup-" + fmt.Sprint(time.Now().UnixNano())
	sleeper(h).Name(name).Start()
	tests := []struct {
		name  string
		build func() *berth.ContainerBuilder
		is    error
		want  string
	}{
		{"empty image", func() *berth.ContainerBuilder { return h.Container("") }, container.ErrInvalidSpec, "empty image reference"},
		{"uppercase image", func() *berth.ContainerBuilder { return h.Container("BusyBox:1") }, container.ErrInvalidSpec, "lowercase"},
		{"bad port", func() *berth.ContainerBuilder { return h.Container(busybox).Port("abc") }, container.ErrInvalidSpec, "Port"},
		{"missing mount source", func() *berth.ContainerBuilder {
			return h.Container(busybox).BindMount("/does/not/exist", "/x", false)
		}, container.ErrInvalidSpec, "does not exist"},
		{"missing image pull never", func() *berth.ContainerBuilder {
			return h.Container("berth-test/absent:1").Pull(container.PullNever)
		}, container.ErrImageMissing, "pull policy is never"},
		{"name in use", func() *berth.ContainerBuilder { return h.Container(busybox).Name(name).Cmd("true") }, wire.ErrConflict, "already in use"},
		{"missing image pull", func() *berth.ContainerBuilder { return h.Container("localhost:1/berth/absent:1") }, container.ErrImageMissing, "image localhost:1/berth/absent:1 is not on the engine and pulling it from localhost:1 failed: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.build().StartE(ctx)
			require.Error(t, err)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	left := testenv.Left(t, h.Engine(), h.Session().ID(), t.Name(), engine.KindContainer)
	assert.Len(t, left, 1, "only the named sleeper may exist")
}

func TestEngineDownIsClear(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	s, err := berth.NewSession(t.Context(), berth.WithEngine("unix://"+sock), berth.WithoutWatchdog())
	require.Error(t, err)
	assert.Nil(t, s)
	assert.ErrorIs(t, err, wire.ErrDaemonUnreachable)
	assert.Contains(t, err.Error(), sock)
}

func TestFailedStartRemovesContainer(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	// Exits at once; the port can never be bound, so waiting on it fails.
	_, err := h.Container(busybox).Cmd("sh", "-c", "echo bye; exit 3").Port("8080/tcp").
		WaitFor(exitWatcher{}).StartE(ctx)
	require.Error(t, err)
	left := testenv.Left(t, h.Engine(), h.Session().ID(), t.Name(), engine.KindContainer)
	assert.Empty(t, left)
}

// exitWatcher fails when the container exits: a minimal strategy so this
// test does not depend on wait/'s strategies.
type exitWatcher struct{}

func (exitWatcher) Ready(ctx context.Context, t wait.Target) error {
	st, err := t.WaitExit(ctx)
	if err != nil {
		return err
	}
	return fmt.Errorf("container exited with code %d", st.ExitCode)
}

func (exitWatcher) String() string { return "exit watcher" }

func TestSessionForTestMainUse(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := berth.NewSession(ctx)
	require.NoError(t, err)
	c, err := s.Container(busybox).Cmd("sleep", "3600").StartE(ctx)
	require.NoError(t, err)
	n, err := s.NetworkE(ctx, "sess")
	require.NoError(t, err)
	require.NoError(t, n.Connect(ctx, c, "svc"))
	left, err := s.Leftovers(ctx)
	require.NoError(t, err)
	assert.Len(t, left, 2)
	require.NoError(t, s.Close(ctx))
	left, err = s.Leftovers(context.Background())
	if err == nil {
		assert.Empty(t, left)
	}
	_, err = testenv.Wire(h(t).Engine()).ContainerInspect(ctx, c.ID())
	assert.ErrorIs(t, err, wire.ErrNotFound)
}

func h(t *testing.T) *berth.Harness { return berth.New(t) }

func TestHundredParallelContainers(t *testing.T) {
	if testing.Short() {
		t.Skip("100 containers take a while; run without -short")
	}
	t.Parallel()
	t.Run("group", func(t *testing.T) {
		for i := range 100 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				h := berth.New(t)
				c := h.Container(busybox).Cmd("sleep", "3600").Start()
				res, err := c.Exec(t.Context(), []string{"true"})
				require.NoError(t, err)
				assert.Equal(t, 0, res.ExitCode)
			})
		}
	})
	// This process's session only: another suite may run the same test.
	owner := berth.New(t)
	session := engine.LabelSession + "=" + owner.Session().ID()
	left, err := testenv.Wire(owner.Engine()).ContainerList(context.Background(), true, wire.Filters{"label": {engine.LabelTest + "=" + t.Name(), session}})
	require.NoError(t, err)
	assert.Empty(t, left)
	var total int
	cs, err := testenv.Wire(owner.Engine()).ContainerList(context.Background(), true, wire.Filters{"label": {"berth.test", session}})
	require.NoError(t, err)
	for _, c := range cs {
		if strings.HasPrefix(c.Labels[engine.LabelTest], t.Name()+"/") {
			total++
		}
	}
	assert.Zero(t, total, "subtest containers left")
}

// leakHelper is the test binary run as a child: it starts a container and
// then dies the way mode says. It prints "session <id>" first.
func leakHelper(mode string) int {
	ctx := context.Background()
	s, err := berth.NewSession(ctx)
	if err != nil {
		fmt.Println("error", err)
		return 2
	}
	c, err := s.Container(busybox).Cmd("sh", "-c", "trap '' TERM; while true; do sleep 1; done").StartE(ctx)
	if err != nil {
		fmt.Println("error", err)
		return 2
	}
	// A tag carries no session label, and a build's temporary files live
	// outside the engine: the watchdog must remove both.
	if err := s.Tag(ctx, busybox, "berth-test/crash:"+s.ID()); err != nil {
		fmt.Println("error", err)
		return 2
	}
	tmp := filepath.Join(os.TempDir(), "berth-session-"+s.ID())
	if err := os.MkdirAll(filepath.Join(tmp, "berth-buildkit-1"), 0o700); err != nil {
		fmt.Println("error", err)
		return 2
	}
	fmt.Printf("session %s container %s\n", s.ID(), c.ID())
	os.Stdout.Sync()
	switch mode {
	case "panic":
		panic("helper panics")
	case "exit":
		os.Exit(3)
	default: // sigint, sigkill: wait to be killed
		time.Sleep(time.Minute)
	}
	return 0
}

// startLeakHelper starts this test binary with args as leakHelper in
// mode, in its own process group, and returns it with the session and
// container it printed first.
func startLeakHelper(t *testing.T, mode string, args ...string) (cmd *exec.Cmd, session, id string) {
	t.Helper()
	cmd = exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "BERTH_LEAK_MODE="+mode)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		// The child still writes its stderr until it is waited for.
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper printed no session line: %v\n%s", err, stderr.String())
	}
	_, err = fmt.Sscanf(line, "session %s container %s", &session, &id)
	require.NoError(t, err, line)
	return cmd, session, id
}

func TestCrashSafety(t *testing.T) {
	t.Parallel()
	client, err := wire.New()
	require.NoError(t, err)
	for _, mode := range []string{"panic", "exit", "sigint", "sigkill", "timeout", "goroutine-fatal"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			args := []string{"-test.run=^$"}
			if mode == "timeout" || mode == "goroutine-fatal" {
				args = []string{"-test.run=^TestLeakHelper$", "-test.timeout=10s"}
			}
			cmd, session, id := startLeakHelper(t, mode, args...)
			switch mode {
			case "sigint":
				require.NoError(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGINT))
			case "sigkill":
				require.NoError(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL))
			}
			cmd.Wait()
			deadline := time.Now().Add(15 * time.Second)
			for {
				_, err := client.ContainerInspect(context.Background(), id)
				if errors.Is(err, wire.ErrNotFound) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("container %s of session %s still exists 15 s after the helper died (%s)", id, session, mode)
				}
				time.Sleep(100 * time.Millisecond)
			}
			require.Eventually(t, func() bool {
				_, err := client.ImageInspect(context.Background(), "berth-test/crash:"+session)
				return errors.Is(err, wire.ErrNotFound)
			}, 15*time.Second, 100*time.Millisecond, "the session's tag outlived the helper (%s)", mode)
			_, err := os.Stat(filepath.Join(os.TempDir(), "berth-session-"+session))
			assert.True(t, os.IsNotExist(err), "the session's temporary directory outlived the helper (%s): %v", mode, err)
		})
	}
}

// TestDiagnoseHelper runs only as the child of TestFailureDiagnostics: a
// test that fails with a container that has logged something.
func TestDiagnoseHelper(t *testing.T) {
	if os.Getenv("BERTH_DIAGNOSE_CHILD") == "" {
		t.Skip("runs only as a child of TestFailureDiagnostics")
	}
	h := berth.New(t) // the diagnostics point here
	h.Container(busybox).Cmd("sh", "-c", "echo diag-marker-out; echo diag-marker-err >&2; exit 4").WaitFor(wait.ForExit().Code(4)).Start()
	t.Fail()
}

// TestFailureDiagnostics: when a test fails, each of its containers is
// described (state, exit code, last log lines) before removal, reported
// at the test's own berth.New line rather than inside berth.
func TestFailureDiagnostics(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDiagnoseHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "BERTH_DIAGNOSE_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the child test fails:\n%s", out)
	text := string(out)
	assert.Contains(t, text, "state=exited exit=4")
	assert.Contains(t, text, "stdout | diag-marker-out")
	assert.Contains(t, text, "stderr | diag-marker-err")
	newLine := 0
	src, err := os.ReadFile("harness_test.go")
	require.NoError(t, err)
	for i, l := range strings.Split(string(src), "\n") {
		if strings.HasSuffix(l, "// the diagnostics point here") {
			newLine = i + 1
		}
	}
	require.NotZero(t, newLine)
	assert.Contains(t, text, fmt.Sprintf("harness_test.go:%d: berth: container ", newLine), "reported at the test's berth.New line:\n%s", text)
	assert.NotContains(t, text, "scope.go:")
}
