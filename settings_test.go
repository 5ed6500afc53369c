package berth_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
)

// The engine's less common settings reach the container: each is read
// back from inside it.
func TestEngineSettings(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := h.Container(busybox).Cmd("sleep", "600").
		ShmSize(64<<20).
		Ulimit("nofile", 1234, 2345).
		Sysctl("net.core.somaxconn", "777").
		Device("/dev/zero:/dev/berth-zero:r").
		Init().
		CapDrop("NET_RAW").
		SecurityOpt("no-new-privileges").
		ReadOnlyRootfs().
		Modify(func(r *container.CreateRequest) error {
			r.HostConfig["OomScoreAdj"] = 321
			return nil
		}).
		Start()
	sh := func(script string) string {
		t.Helper()
		res, err := c.Exec(ctx, []string{"sh", "-c", script})
		require.NoError(t, err)
		return strings.TrimSpace(string(res.Stdout))
	}
	assert.Contains(t, sh("grep ' /dev/shm ' /proc/mounts"), "size=65536k")
	// The container's own processes (PID 1), not an exec's shell.
	assert.Equal(t, "1234 2345", sh("grep 'Max open files' /proc/1/limits | awk '{print $4, $5}'"))
	assert.Equal(t, "777", sh("cat /proc/sys/net/core/somaxconn"))
	assert.Equal(t, "c", sh("ls -l /dev/berth-zero | cut -c1"))
	assert.Contains(t, sh("cat /proc/1/cmdline | tr '\\0' ' '"), "init", "PID 1 is the engine's init")
	capEff, err := strconv.ParseUint(sh("grep CapEff /proc/self/status | awk '{print $2}'"), 16, 64)
	require.NoError(t, err)
	assert.Zero(t, capEff&(1<<13), "NET_RAW (capability 13) is dropped")
	assert.NotZero(t, capEff&(1<<0), "CHOWN (capability 0) is kept")
	assert.Equal(t, "1", sh("grep NoNewPrivs /proc/self/status | tr -dc 0-9"))
	assert.Contains(t, sh("touch /x 2>&1; echo $?"), "Read-only file system")
	assert.Equal(t, "321", sh("cat /proc/1/oom_score_adj"), "Modify set a field berth has no call for")
}

func TestEngineSettingsBadInput(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	_, err := h.Container(busybox).Ulimit("nofile", 10, 5).StartE(ctx)
	assert.ErrorIs(t, err, container.ErrInvalidSpec)
	assert.ErrorContains(t, err, "soft <= hard")
	_, err = h.Container(busybox).Device("fuse").StartE(ctx)
	assert.ErrorIs(t, err, container.ErrInvalidSpec)
	boom := errors.New("no such setting")
	_, err = h.Container(busybox).Modify(func(*container.CreateRequest) error { return boom }).StartE(ctx)
	assert.ErrorIs(t, err, boom)
	assert.ErrorContains(t, err, "Modify")
}
