package network_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/network"
)

const busybox = "busybox:1.36"

// TestMain fails the binary when a test leaves a resource of the shared
// session behind.
func TestMain(m *testing.M) { berth.Main(m) }

// webServer is a busybox httpd on port 8080 answering body at /.
func webServer(h *berth.Harness, body string) *berth.ContainerBuilder {
	return h.Container(busybox).Cmd("sh", "-c",
		"mkdir -p /www && echo "+body+" > /www/index.html && exec httpd -f -p 8080 -h /www")
}

// sleeper is a container that stays up for Exec.
func sleeper(h *berth.Harness) *berth.ContainerBuilder {
	return h.Container(busybox).Cmd("sleep", "3600")
}

// fetch runs an HTTP GET of url inside client, bounded to 2 s by wget -T,
// and returns the body or an error with wget's output.
func fetch(ctx context.Context, client *berth.Container, url string) (string, error) {
	res, err := client.Exec(ctx, []string{"wget", "-T", "2", "-q", "-O-", url})
	if err != nil {
		return "", err
	}
	if res.ExitCode != 0 {
		return "", fmt.Errorf("wget %s: exit %d: %s", url, res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}

// eventuallyFetch retries fetch until it returns want or 15 s pass (the
// server may still be starting).
func eventuallyFetch(t *testing.T, client *berth.Container, url, want string) {
	t.Helper()
	ctx := t.Context()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := fetch(ctx, client, url)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s from %s: got %q, %v; want %q", url, client, got, err, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// requireFetchFails asserts that a GET of url fails and that it fails
// within a bounded time.
func requireFetchFails(t *testing.T, client *berth.Container, url string) {
	t.Helper()
	start := time.Now()
	got, err := fetch(t.Context(), client, url)
	require.Error(t, err, "GET %s still answered %q", url, got)
	assert.Less(t, time.Since(start), 10*time.Second, "a cut connection must fail fast, not hang")
}

// requireCutThenHealed asserts that client cannot fetch url, heals n, and
// waits until client fetches want from url again.
func requireCutThenHealed(t *testing.T, n *network.Network, client *berth.Container, url, want string) {
	t.Helper()
	requireFetchFails(t, client, url)
	require.NoError(t, n.Heal(t.Context()))
	eventuallyFetch(t, client, url, want)
}

// webAndClient starts, for a parallel test, network name with a web
// server "web" answering "up" and a client on it, and waits until the
// client gets the page.
func webAndClient(t *testing.T, name string) (*network.Network, *berth.Container) {
	t.Helper()
	t.Parallel()
	h := berth.New(t)
	n := h.Network(name)
	webServer(h, "up").Network(n, "web").Start()
	client := sleeper(h).Network(n).Start()
	eventuallyFetch(t, client, "http://web:8080/", "up")
	return n, client
}

func TestAliasDisconnectConnect(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	net := h.Network("talk")
	srv := webServer(h, "hello").Network(net, "web").Start()
	client := sleeper(h).Network(net, "client").Start()

	eventuallyFetch(t, client, "http://web:8080/", "hello")
	members, err := net.Members(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{srv.ID(), client.ID()}, members)

	require.NoError(t, net.Disconnect(ctx, srv))
	requireFetchFails(t, client, "http://web:8080/")
	members, err = net.Members(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{client.ID()}, members)

	require.NoError(t, net.Connect(ctx, srv, "web", "www"))
	eventuallyFetch(t, client, "http://web:8080/", "hello")
	eventuallyFetch(t, client, "http://www:8080/", "hello")

	// Disconnecting what is not attached says so.
	require.NoError(t, net.Disconnect(ctx, client))
	err = net.Disconnect(ctx, client)
	require.Error(t, err)
	assert.Contains(t, err.Error(), net.Name())
}

func TestPartitionHeal(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	front, back := h.Network("front"), h.Network("back")
	srv := webServer(h, "api").Network(front, "api", "api-alias").Network(back, "api-back").Start()
	client := sleeper(h).Network(front).Network(back).Start()
	other := sleeper(h).Network(front, "other").Start()

	eventuallyFetch(t, client, "http://api:8080/", "api")
	eventuallyFetch(t, client, "http://api-back:8080/", "api")

	require.NoError(t, front.Partition(ctx, srv, srv))
	assert.Equal(t, []string{srv.ID()}, front.Partitioned())
	requireFetchFails(t, client, "http://api:8080/")
	requireFetchFails(t, client, "http://api-alias:8080/")
	// The cut is on front only: back still carries traffic.
	eventuallyFetch(t, client, "http://api-back:8080/", "api")
	members, err := front.Members(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{client.ID(), other.ID()}, members)

	require.NoError(t, front.Heal(ctx))
	assert.Empty(t, front.Partitioned())
	eventuallyFetch(t, client, "http://api:8080/", "api")
	eventuallyFetch(t, client, "http://api-alias:8080/", "api")
	d, err := srv.Inspect(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"api", "api-alias", srv.ID()[:12]}, d.Networks[front.Name()].Aliases,
		"Heal restores the aliases, and no short-ID alias is doubled")
	require.NoError(t, front.Heal(ctx), "a second Heal has nothing to do")

	// A container connected by hand after a partition is left alone by Heal.
	require.NoError(t, front.Partition(ctx, other))
	require.NoError(t, front.Connect(ctx, other, "other"))
	assert.Empty(t, front.Partitioned())
	require.NoError(t, front.Heal(ctx))

	// Several containers at once, then one round trip of them all.
	require.NoError(t, front.Partition(ctx, srv, other))
	assert.ElementsMatch(t, []string{srv.ID(), other.ID()}, front.Partitioned())
	requireCutThenHealed(t, front, client, "http://api:8080/", "api")
}

func TestPartitionBadInput(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	net := h.Network("pbad")
	on := sleeper(h).Network(net, "on").Start()
	off := sleeper(h).Start()

	err := net.Partition(ctx, on, off)
	require.ErrorIs(t, err, network.ErrNotMember)
	assert.Contains(t, err.Error(), off.ID()[:12])
	assert.Empty(t, net.Partitioned(), "nothing is cut when one container is not a member")
	members, err := net.Members(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{on.ID()}, members)

	require.Error(t, net.Partition(ctx))
	require.Error(t, net.Partition(ctx, nil))
	require.Error(t, net.Connect(ctx, nil))
	require.Error(t, net.Disconnect(ctx, nil))
}

func TestNetworkRemovedWithContainerAttached(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	// The container belongs to this test, the network to the subtest: at
	// the subtest's cleanup the container is still attached.
	c := sleeper(h).Start()
	var id, name string
	t.Run("inner", func(t *testing.T) {
		net := berth.New(t).Network("attached")
		id, name = net.ID(), net.Name()
		require.NoError(t, net.Connect(t.Context(), c, "still-here"))
		d, err := c.Inspect(t.Context())
		require.NoError(t, err)
		require.Contains(t, d.Networks, name)
	})
	require.NotEmpty(t, id)
	_, err := testenv.Wire(h.Engine()).NetworkInspect(ctx, id)
	require.ErrorIs(t, err, wire.ErrNotFound, "network %s outlived its test", name)
	left, err := testenv.Wire(h.Engine()).NetworkList(ctx, wire.Filters{"label": {engine.LabelTest + "=" + t.Name() + "/inner", engine.LabelSession + "=" + h.Session().ID()}})
	require.NoError(t, err)
	assert.Empty(t, left)
	d, err := c.Inspect(ctx)
	require.NoError(t, err)
	assert.NotContains(t, d.Networks, name)
	assert.True(t, d.State.Running, "the container itself is untouched")
}

func TestInternalNetwork(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	// A server outside both networks, reachable through a published port.
	srv := webServer(h, "outside").Port("8080/tcp").Start()
	port, err := srv.MappedPort(ctx, "8080/tcp")
	require.NoError(t, err)

	internal := h.Network("sealed", berth.Internal())
	open := h.Network("open")
	info, err := internal.Inspect(ctx)
	require.NoError(t, err)
	assert.True(t, info.Internal)
	assert.Equal(t, "bridge", info.Driver)
	assert.Equal(t, h.Session().ID(), info.Labels[engine.LabelSession])
	assert.Equal(t, t.Name(), info.Labels[engine.LabelTest])
	info, err = open.Inspect(ctx)
	require.NoError(t, err)
	assert.False(t, info.Internal)

	// The published port is reached through the host, i.e. by leaving the
	// container's network through its gateway.
	outsideURL := func(c *berth.Container, net *network.Network) string {
		d, err := c.Inspect(ctx)
		require.NoError(t, err)
		gw := d.Networks[net.Name()].Gateway
		require.NotEmpty(t, gw, "no gateway on %s", net)
		return "http://" + gw + ":" + strconv.Itoa(port) + "/"
	}
	openClient := sleeper(h).Network(open).Start()
	outside := outsideURL(openClient, open)
	eventuallyFetch(t, openClient, outside, "outside")

	// The same URL from the internal network must not answer; on a network
	// that is not internal it does, every time. dockerd shuts the way out
	// with iptables rules only (the container still has a default route),
	// and on a busy engine, networks coming and going around this one,
	// a request has been seen to get through now and then. So the check
	// wants most of several tries refused, and logs how many were not.
	sealedClient := sleeper(h).Network(internal, "a").Start()
	const tries = 5
	answered := 0
	for range tries {
		if got, err := fetch(ctx, sealedClient, outside); err == nil {
			answered++
			t.Logf("GET %s from the internal network answered %q", outside, got)
		}
	}
	assert.Less(t, answered, 3, "%d of %d requests from the internal network got out", answered, tries)

	// Inside an internal network, containers still find each other by alias.
	webServer(h, "inside").Network(internal, "inner-web").Start()
	eventuallyFetch(t, sealedClient, "http://inner-web:8080/", "inside")
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()

	t.Run("invalid names", func(t *testing.T) {
		for _, name := range []string{"", "-lead", "has space", "a/b", "tab\tname", "ünï"} {
			_, err := network.Create(ctx, h.Engine(), network.Options{Name: name, Labels: map[string]string{engine.LabelSession: h.Session().ID()}})
			require.ErrorIs(t, err, network.ErrInvalidName, "name %q", name)
		}
		_, err := h.NetworkE(ctx, "bad name")
		require.ErrorIs(t, err, network.ErrInvalidName)
	})

	t.Run("unknown network", func(t *testing.T) {
		_, err := network.Get(ctx, h.Engine(), "berth-no-such-network-7f3a")
		require.ErrorIs(t, err, wire.ErrNotFound)
		assert.Contains(t, err.Error(), "berth-no-such-network-7f3a")
		assert.Contains(t, err.Error(), "no such network")
		_, err = network.Get(ctx, h.Engine(), "")
		require.ErrorIs(t, err, network.ErrInvalidName)
	})

	t.Run("builder with a removed network", func(t *testing.T) {
		h := berth.New(t)
		net := h.Network("gone")
		require.NoError(t, net.Remove(ctx))
		require.NoError(t, net.Remove(ctx), "removing twice is fine")
		_, err := h.Container(busybox).Cmd("sleep", "3600").Network(net, "x").StartE(ctx)
		require.Error(t, err)
		assert.ErrorIs(t, err, wire.ErrNotFound)
		assert.Contains(t, err.Error(), net.Name())
		left := testenv.Left(t, h.Engine(), h.Session().ID(), t.Name(), engine.KindContainer)
		assert.Empty(t, left, "a failed start leaves no container")
		nets, err := testenv.Wire(h.Engine()).NetworkList(ctx, wire.Filters{"label": {engine.LabelTest + "=" + t.Name(), engine.LabelSession + "=" + h.Session().ID()}})
		require.NoError(t, err)
		assert.Empty(t, nets)
	})

	t.Run("builder with nil network", func(t *testing.T) {
		_, err := h.Container(busybox).Network(nil).StartE(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "h.Network")
	})

	t.Run("duplicate name", func(t *testing.T) {
		net := h.Network("dup")
		_, err := network.Create(ctx, h.Engine(), network.Options{Name: net.Name(), Labels: map[string]string{engine.LabelSession: h.Session().ID()}})
		require.ErrorIs(t, err, wire.ErrConflict)
		assert.Contains(t, err.Error(), "pick another name")
	})

	t.Run("get existing", func(t *testing.T) {
		net := h.Network("lookup")
		got, err := network.Get(ctx, h.Engine(), net.Name())
		require.NoError(t, err)
		assert.Equal(t, net.ID(), got.ID())
		assert.Equal(t, net.Name(), got.Name())
		assert.Equal(t, "network "+net.Name(), got.String())
	})
}
