package wire

import (
	"context"
	"net/http"
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
