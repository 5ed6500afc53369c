package berth_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
)

// A create the killed process had in flight can finish on a loaded engine
// many seconds after the kill (10-12 s were seen): the watchdog keeps
// sweeping and removes it. Here the late create is made by the test, 9 s
// after the kill, labelled with the dead session.
func TestWatchdogRemovesLateCreates(t *testing.T) {
	t.Parallel()
	cmd, session, _ := startLeakHelper(t, "sigkill", "-test.run=^$")
	require.NoError(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL))
	cmd.Wait()

	time.Sleep(9 * time.Second)
	c := testenv.Client(t)
	w := testenv.Wire(c)
	netID, err := w.NetworkCreate(context.Background(), wire.NetworkCreate{Name: "berth-late-" + session[:8], Labels: map[string]string{engine.LabelSession: session}})
	require.NoError(t, err)
	t.Cleanup(func() { w.NetworkRemove(context.Background(), netID) })
	assert.Eventually(t, func() bool {
		_, err := c.Network(context.Background(), netID)
		return err != nil
	}, 40*time.Second, 200*time.Millisecond, "the watchdog left a create that finished 9 s after the kill")
}
