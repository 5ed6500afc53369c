package examples

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/wait"
)

// TestClientSurvivesPartition cuts a server off its network mid-test and
// heals it: the fault-injection pattern.
func TestClientSurvivesPartition(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	net := h.Network("backend")
	server := h.Container("busybox:1.36").
		Cmd("sh", "-c", "mkdir -p /www && echo pong > /www/ping && exec httpd -f -p 80 -h /www").
		Network(net, "api").
		WaitFor(wait.ForListeningPort("80/tcp")).
		Start()
	client := h.Container("busybox:1.36").Cmd("sleep", "3600").Network(net).Start()

	get := func() (string, int) {
		res, err := client.Exec(ctx, []string{"wget", "-T", "2", "-q", "-O-", "http://api/ping"})
		require.NoError(t, err)
		return string(res.Stdout), res.ExitCode
	}
	body, code := get()
	require.Equal(t, 0, code)
	assert.Equal(t, "pong\n", body)

	require.NoError(t, net.Partition(ctx, server))
	start := time.Now()
	_, code = get()
	assert.NotEqual(t, 0, code, "the server must be unreachable while partitioned")
	assert.Less(t, time.Since(start), 10*time.Second, "wget gives up after 2 s; a loaded engine adds the exec's own time")

	require.NoError(t, net.Heal(ctx))
	body, code = get()
	assert.Equal(t, 0, code)
	assert.Equal(t, "pong\n", body)
}
