package container_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/wait"
)

// TestExecOfACommandTheImageLacks: Exec keeps docker's result (exit code
// and the runtime's message) and adds a *CommandError saying what to do;
// a command that ran and failed is no error.
func TestExecOfACommandTheImageLacks(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := h.Container("busybox:1.36").Cmd("sleep", "300").Start()

	for _, tc := range []struct {
		cmd      []string
		notFound bool
		want     []string
	}{
		{[]string{"no-such-binary", "-x"}, true, []string{`exec ["no-such-binary" "-x"]: the command "no-such-binary" is not in the image's PATH`, "give the full path"}},
		{[]string{"/opt/none/tool"}, true, []string{`"/opt/none/tool" does not exist in the image`}},
		{[]string{"/etc/passwd"}, false, []string{`"/etc/passwd" is not executable`, "chmod +x"}},
	} {
		res, err := c.Exec(ctx, tc.cmd)
		require.Error(t, err, "%q", tc.cmd)
		var ce *container.CommandError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, tc.notFound, errors.Is(err, container.ErrCommandNotFound), "%v", err)
		for _, w := range tc.want {
			assert.Contains(t, err.Error(), w)
		}
		assert.Contains(t, []int{126, 127}, res.ExitCode, "the runtime's exit code is kept")
		assert.NotEmpty(t, string(res.Stdout)+string(res.Stderr), "the runtime's message is kept")
	}

	// A command that ran and failed, even with 126, is a result.
	res, err := c.Exec(ctx, []string{"sh", "-c", "echo ran; exit 126"})
	require.NoError(t, err)
	assert.Equal(t, 126, res.ExitCode)
	assert.Equal(t, "ran\n", string(res.Stdout))
}

// TestForExecOfACommandTheImageLacksFailsAtOnce: waiting for a command the
// image does not have ends with the reason, not at the timeout.
func TestForExecOfACommandTheImageLacksFailsAtOnce(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := h.Container("busybox:1.36").Cmd("sleep", "300").WaitFor(wait.ForExec("pg_isready", "-q")).StartE(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, container.ErrCommandNotFound)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 15*time.Second, "failed at once: %v", err)
	assert.Contains(t, err.Error(), `"pg_isready" is not in the image's PATH`)
	assertNothingLeft(t, h)
}
