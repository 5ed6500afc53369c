package berth_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
)

// A container reaches an httptest.Server of the test process that listens
// on 127.0.0.1 only, on the default network and on a network of its own;
// the relay is gone when the harness ends.
func TestHostAccess(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprintf(w, "hello from the test, %s", r.URL.Path)
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	url := "http://" + berth.HostInternal + ":" + strconv.Itoa(port)

	var addr string
	t.Run("harness", func(t *testing.T) {
		h := berth.New(t)
		ctx := t.Context()
		var err error
		addr, err = h.Engine().HostAddress(ctx)
		require.NoError(t, err)
		net := h.Network("hostaccess")
		for name, b := range map[string]*berth.ContainerBuilder{
			"bridge":  h.Container(busybox),
			"network": h.Container(busybox).Network(net),
		} {
			c := b.HostAccess(port).Cmd("sleep", "600").Start()
			res, err := c.Exec(ctx, []string{"wget", "-qO-", url + "/" + name})
			require.NoError(t, err)
			assert.Equal(t, 0, res.ExitCode, "%s: %s", name, res.Stderr)
			assert.Equal(t, "hello from the test, /"+name, string(res.Stdout), name)
		}
		assert.Equal(t, int32(2), hits.Load())

		// Without HostAccess the name means nothing.
		c := h.Container(busybox).Cmd("sleep", "600").Start()
		res, err := c.Exec(ctx, []string{"wget", "-qO-", url})
		require.NoError(t, err)
		assert.NotEqual(t, 0, res.ExitCode)
	})
	// The harness closed its relay: the port on the bridge side is free.
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(addr, strconv.Itoa(port)), time.Second)
	if err == nil {
		conn.Close()
	}
	assert.Error(t, err, "the relay still listens after the harness ended")
}

// A bad port is refused before anything is made.
func TestHostAccessBadPort(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	_, err := h.Container(busybox).HostAccess(8080, 70000).StartE(context.Background())
	require.ErrorIs(t, err, container.ErrInvalidSpec)
	assert.Contains(t, err.Error(), "HostAccess")
	assert.Contains(t, err.Error(), "70000")
}
