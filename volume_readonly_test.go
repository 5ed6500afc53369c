package berth_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/wait"
)

// TestVolumeMountReadOnly: a reader mounts the writer's named volume
// read-only, sees what the writer wrote and cannot write itself.
func TestVolumeMountReadOnly(t *testing.T) {
	h := berth.New(t)
	ctx := t.Context()
	h.Container(busybox).Cmd("sh", "-c", "echo shared > /data/f").VolumeMount("data", "/data").
		WaitFor(wait.ForExit()).Start()
	r := h.Container(busybox).Cmd("sleep", "600").VolumeMountReadOnly("data", "/data").Start()
	res, err := r.Exec(ctx, []string{"cat", "/data/f"})
	require.NoError(t, err)
	assert.Equal(t, "shared\n", string(res.Stdout))
	res, err = r.Exec(ctx, []string{"touch", "/data/g"})
	require.NoError(t, err)
	assert.NotEqual(t, 0, res.ExitCode, "the volume is read-only")
	assert.Contains(t, string(res.Stderr), "Read-only file system")
}
