package wire

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const routeTable = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	0011A8C0	00000000	0001	0	0	0	00FFFFFF	0	0	0
eth0	00000000	0100A8C0	0003	0	0	0	00000000	0	0	0
`

// pretend runs the test as if in a container (or not), with the given
// routing table and local addresses.
func pretend(t *testing.T, inside bool, routes string, local ...string) {
	dir := t.TempDir()
	marker := filepath.Join(dir, ".dockerenv")
	if inside {
		require.NoError(t, os.WriteFile(marker, nil, 0o600))
	}
	rf := filepath.Join(dir, "route")
	require.NoError(t, os.WriteFile(rf, []byte(routes), 0o600))
	oldM, oldR, oldL := containerMarkers, routeFile, localAddrs
	containerMarkers, routeFile = []string{marker}, rf
	localAddrs = func() ([]net.Addr, error) {
		var out []net.Addr
		for _, a := range append([]string{"127.0.0.1"}, local...) {
			out = append(out, &net.IPNet{IP: net.ParseIP(a), Mask: net.CIDRMask(24, 32)})
		}
		return out, nil
	}
	t.Cleanup(func() { containerMarkers, routeFile, localAddrs = oldM, oldR, oldL })
}

// bridgeEngine answers GET /networks/bridge with gateway gw (404 when gw
// is "") and counts the calls.
func bridgeEngine(t *testing.T, gw string, calls *atomic.Int32) *Client {
	c := fakeEngine(t, "1.41", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1.41/networks/bridge" {
			http.Error(w, `{"message":"unexpected"}`, http.StatusInternalServerError)
			return
		}
		calls.Add(1)
		if gw == "" {
			http.Error(w, `{"message":"network bridge not found"}`, http.StatusNotFound)
			return
		}
		w.Write([]byte(`{"Name":"bridge","Id":"b1","IPAM":{"Config":[{"Subnet":"fd00::/64","Gateway":"fd00::1"},{"Subnet":"172.17.0.0/16","Gateway":"` + gw + `"}]}}`))
	})
	// A unix socket engine, as far as PortHost can tell; the calls still
	// go to the fake one.
	c.ep.Host = "unix:///var/run/docker.sock"
	return c
}

func TestPortHost(t *testing.T) {
	ctx := context.Background()
	t.Run("outside a container loopback, no call", func(t *testing.T) {
		pretend(t, false, routeTable)
		var calls atomic.Int32
		c := bridgeEngine(t, "172.17.0.1", &calls)
		assert.Equal(t, "127.0.0.1", c.PortHost(ctx))
		assert.Zero(t, calls.Load())
	})
	t.Run("inside, the bridge gateway, asked once", func(t *testing.T) {
		pretend(t, true, routeTable, "172.17.0.5")
		var calls atomic.Int32
		c := bridgeEngine(t, "172.17.0.1", &calls)
		assert.Equal(t, "172.17.0.1", c.PortHost(ctx))
		assert.Equal(t, "172.17.0.1", c.PortHost(ctx))
		assert.Equal(t, int32(1), calls.Load())
	})
	t.Run("inside, the engine in this network: loopback", func(t *testing.T) {
		pretend(t, true, routeTable, "172.17.0.1")
		var calls atomic.Int32
		c := bridgeEngine(t, "172.17.0.1", &calls)
		assert.Equal(t, "127.0.0.1", c.PortHost(ctx))
	})
	t.Run("inside, no bridge network: the default route", func(t *testing.T) {
		pretend(t, true, routeTable, "192.168.17.5")
		var calls atomic.Int32
		c := bridgeEngine(t, "", &calls)
		assert.Equal(t, "192.168.0.1", c.PortHost(ctx))
	})
	t.Run("inside, nothing known: loopback", func(t *testing.T) {
		pretend(t, true, "Iface\tDestination\tGateway\n")
		var calls atomic.Int32
		c := bridgeEngine(t, "", &calls)
		assert.Equal(t, "127.0.0.1", c.PortHost(ctx))
	})
	t.Run("a remote engine is its host", func(t *testing.T) {
		pretend(t, true, routeTable)
		var calls atomic.Int32
		c := bridgeEngine(t, "172.17.0.1", &calls)
		c.ep.Host = "tcp://10.1.2.3:2375"
		assert.Equal(t, "10.1.2.3", c.PortHost(ctx))
		assert.Zero(t, calls.Load())
	})
}

func TestHostAddress(t *testing.T) {
	ctx := context.Background()
	t.Run("a remote engine cannot reach this process", func(t *testing.T) {
		var calls atomic.Int32
		c := bridgeEngine(t, "172.17.0.1", &calls)
		c.ep.Host = "tcp://bob:s3cret@10.1.2.3:2375"
		_, err := c.HostAddress(ctx)
		require.ErrorIs(t, err, ErrUnsupported)
		assert.Contains(t, err.Error(), "10.1.2.3")
		assert.NotContains(t, err.Error(), "s3cret")
		assert.Zero(t, calls.Load())
	})
	t.Run("no bridge network", func(t *testing.T) {
		var calls atomic.Int32
		c := bridgeEngine(t, "", &calls)
		_, err := c.HostAddress(ctx)
		require.ErrorIs(t, err, ErrNotFound)
		assert.Contains(t, err.Error(), "bridge network")
	})
	t.Run("the source address toward the gateway", func(t *testing.T) {
		var calls atomic.Int32
		c := bridgeEngine(t, "127.0.0.1", &calls) // a gateway of this machine
		addr, err := c.HostAddress(ctx)
		require.NoError(t, err)
		assert.Equal(t, "127.0.0.1", addr)
	})
}
