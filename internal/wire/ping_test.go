package wire

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Ping reads what the engine says of itself from the headers of /_ping.
func TestPingHeaders(t *testing.T) {
	for _, experimental := range []string{"true", "false", ""} {
		t.Run("experimental="+experimental, func(t *testing.T) {
			addr := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("API-Version", "1.41")
				w.Header().Set("OSType", "linux")
				w.Header().Set("Builder-Version", "2")
				w.Header().Set("Server", "Docker/20.10.24 (linux)")
				if experimental != "" {
					w.Header().Set("Docker-Experimental", experimental)
				}
				w.Write([]byte("OK"))
			}))
			c, err := New(WithHost("tcp://" + addr))
			require.NoError(t, err)
			defer c.Close()
			p, err := c.Ping(context.Background())
			require.NoError(t, err)
			assert.Equal(t, Ping{APIVersion: "1.41", OSType: "linux", Experimental: experimental == "true",
				BuilderVersion: "2", Server: "Docker/20.10.24 (linux)"}, p)
			assert.False(t, p.IsPodman())
		})
	}
}

// PingInfo asks the engine once and keeps the answer, also when the
// version was pinned and nothing was negotiated.
func TestPingInfoAsksOnce(t *testing.T) {
	for _, pinned := range []bool{false, true} {
		t.Run(map[bool]string{false: "negotiated", true: "pinned"}[pinned], func(t *testing.T) {
			var pings atomic.Int32
			addr := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				pings.Add(1)
				w.Header().Set("API-Version", "1.41")
				w.Header().Set("Server", "Libpod/4.3.1")
				w.Write([]byte("OK"))
			}))
			opts := []Option{WithHost("tcp://" + addr)}
			if pinned {
				opts = append(opts, WithVersion("1.41"))
			}
			c, err := New(opts...)
			require.NoError(t, err)
			defer c.Close()
			for range 3 {
				p, err := c.PingInfo(context.Background())
				require.NoError(t, err)
				assert.Equal(t, "Libpod/4.3.1", p.Server)
				assert.True(t, c.IsPodman(context.Background()))
			}
			assert.EqualValues(t, 1, pings.Load(), "one ping, then the kept answer")
		})
	}
}
