package network_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/network"
)

// Loss of every packet a client sends cuts its requests; Heal restores
// them. The helper containers leave nothing (the harness checks).
func TestDegradeLoss(t *testing.T) {
	net, client := webAndClient(t, "loss")
	ctx := t.Context()

	require.NoError(t, net.Degrade(ctx, client, network.Fault{Loss: 100}))
	requireFetchFails(t, client, "http://web:8080/")
	// A second Degrade replaces the first: no loss now.
	require.NoError(t, net.Degrade(ctx, client, network.Fault{Loss: 0}))
	eventuallyFetch(t, client, "http://web:8080/", "up")

	require.NoError(t, net.Degrade(ctx, client, network.Fault{Loss: 100}))
	requireCutThenHealed(t, net, client, "http://web:8080/", "up")
}

// A rate cap on a server slows what it sends to about that rate.
func TestDegradeRate(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	net := h.Network("rate")
	const size, rate = 400 << 10, 100 << 10 // 400 KiB at 100 KiB/s: 4 s
	web := h.Container(busybox).Cmd("sh", "-c",
		"mkdir -p /www && head -c 409600 /dev/zero > /www/big && exec httpd -f -p 8080 -h /www").
		Network(net, "web").Start()
	client := sleeper(h).Network(net).Start()
	get := func() time.Duration {
		t.Helper()
		start := time.Now()
		res, err := client.Exec(ctx, []string{"sh", "-c", "wget -q -O- http://web:8080/big | wc -c"})
		require.NoError(t, err)
		require.Equal(t, 0, res.ExitCode, "%s", res.Stderr)
		require.Equal(t, "409600\n", string(res.Stdout))
		return time.Since(start)
	}
	require.Eventually(t, func() bool {
		res, err := client.Exec(ctx, []string{"timeout", "2", "wget", "-q", "-O", "/dev/null", "http://web:8080/big"})
		return err == nil && res.ExitCode == 0
	}, 15*time.Second, 100*time.Millisecond)
	free := get()

	require.NoError(t, net.Degrade(ctx, web, network.Fault{Rate: rate}))
	capped := get()
	t.Logf("400 KiB: %v free, %v capped at 100 KiB/s", free, capped)
	assert.GreaterOrEqual(t, capped, time.Duration(float64(size)/rate*0.8*float64(time.Second)), "the cap holds the transfer to its rate")

	require.NoError(t, net.Heal(ctx))
	// The exec's own time (slow on a loaded machine) is in both figures:
	// Heal takes at least half the cap's 4 s off.
	healed := get()
	assert.Greater(t, capped-healed, 2*time.Second, "Heal lifts the cap: %v capped, %v healed", capped, healed)
}

// A delay grows a request's round trip by about the delay; where the
// engine's kernel has no netem, Degrade says so.
func TestDegradeDelay(t *testing.T) {
	net, client := webAndClient(t, "delay")
	ctx := t.Context()
	rtt := func() time.Duration {
		t.Helper()
		start := time.Now()
		for range 5 {
			_, err := fetch(ctx, client, "http://web:8080/")
			require.NoError(t, err)
		}
		return time.Since(start) / 5
	}
	before := rtt()

	err := net.Degrade(ctx, client, network.Fault{Delay: 200 * time.Millisecond, Jitter: 10 * time.Millisecond})
	if errors.Is(err, network.ErrNoNetem) {
		assert.ErrorIs(t, err, engine.ErrUnsupported)
		assert.Contains(t, err.Error(), "CONFIG_NET_SCH_NETEM")
		t.Skipf("the engine's kernel cannot delay packets: %v", err)
	}
	require.NoError(t, err)
	// A GET takes a few round trips (handshake, request): each is 200 ms
	// slower at least.
	after := rtt()
	t.Logf("GET: %v before, %v with 200 ms delay", before, after)
	assert.Greater(t, after-before, 300*time.Millisecond)
	require.NoError(t, net.Heal(ctx))
	assert.Less(t, rtt(), before+150*time.Millisecond)
}

// A fault out of range is refused before anything runs.
func TestDegradeInvalid(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	net := h.Network("bad-fault")
	client := sleeper(h).Network(net).Start()
	for _, f := range []network.Fault{{Loss: 150}, {Loss: -1}, {Delay: -time.Second}, {Jitter: time.Millisecond}, {Rate: 10}} {
		err := net.Degrade(context.Background(), client, f)
		assert.ErrorIs(t, err, network.ErrInvalidFault, "%+v", f)
	}
	// Not on the network.
	other := sleeper(h).Start()
	assert.ErrorIs(t, net.Degrade(context.Background(), other, network.Fault{Loss: 1}), network.ErrNotMember)
}
