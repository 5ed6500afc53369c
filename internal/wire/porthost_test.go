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

// pretend runs the test as if in a container (or not), with the given
// local addresses.
func pretend(t *testing.T, inside bool, local ...string) {
	dir := t.TempDir()
	marker := filepath.Join(dir, ".dockerenv")
	if inside {
		require.NoError(t, os.WriteFile(marker, nil, 0o600))
	}
	oldM, oldL := containerMarkers, localAddrs
	containerMarkers = []string{marker}
	localAddrs = func() ([]net.Addr, error) {
		var out []net.Addr
		for _, a := range append([]string{"127.0.0.1"}, local...) {
			out = append(out, &net.IPNet{IP: net.ParseIP(a), Mask: net.CIDRMask(24, 32)})
		}
		return out, nil
	}
	t.Cleanup(func() { containerMarkers, localAddrs = oldM, oldL })
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
		if gw == "subnet-only" { // what a fresh dockerd says of its bridge
			w.Write([]byte(`{"Name":"bridge","Id":"b1","IPAM":{"Config":[{"Subnet":"172.17.0.0/16"}]}}`))
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
	const unchecked = -1
	tests := []struct {
		name   string
		inside bool
		addrs  []string // this host's addresses
		bridge string   // the engine's bridge gateway, as bridgeEngine takes it
		host   string   // the engine's host, when not the local socket
		want   string
		calls  int32 // engine calls for two PortHost calls, or unchecked
	}{
		{"outside a container loopback, no call", false, nil, "172.17.0.1", "", "127.0.0.1", 0},
		{"inside, the bridge gateway, asked once", true, []string{"172.17.0.5"}, "172.17.0.1", "", "172.17.0.1", 1},
		{"inside, the engine in this network: loopback", true, []string{"172.17.0.1"}, "172.17.0.1", "", "127.0.0.1", unchecked},
		{"inside, no bridge network: loopback", true, []string{"192.168.17.5"}, "", "", "127.0.0.1", unchecked},
		{"inside, a bridge with a subnet only: its first address", true, []string{"172.17.0.5"}, "subnet-only", "", "172.17.0.1", unchecked},
		{"the engine here, its bridge with a subnet only: loopback", true, []string{"172.17.0.1"}, "subnet-only", "", "127.0.0.1", unchecked},
		{"a remote engine is its host", true, nil, "172.17.0.1", "tcp://10.1.2.3:2375", "10.1.2.3", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pretend(t, tt.inside, tt.addrs...)
			var calls atomic.Int32
			c := bridgeEngine(t, tt.bridge, &calls)
			if tt.host != "" {
				c.ep.Host = tt.host
			}
			assert.Equal(t, tt.want, c.PortHost(t.Context()))
			assert.Equal(t, tt.want, c.PortHost(t.Context()), "asked again")
			if tt.calls != unchecked {
				assert.Equal(t, tt.calls, calls.Load())
			}
		})
	}
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
