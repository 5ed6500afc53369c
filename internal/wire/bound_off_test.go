package wire

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A response bound of 0 is off, whether the option or the environment
// says so: calls reach the engine, over plain TCP and over TLS, where the
// handshake's bound is off too (a zero bound is no deadline, not an
// expired one).
func TestResponseTimeoutZeroIsOff(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("API-Version", "1.41")
		if r.URL.Path == "/_ping" {
			w.Write([]byte("OK"))
			return
		}
		w.Write([]byte(`{"Id":"abc"}`))
	})
	plain := httptest.NewServer(h)
	defer plain.Close()
	secure := httptest.NewTLSServer(h)
	defer secure.Close()
	hostOf := func(s *httptest.Server) string {
		return "tcp://" + strings.TrimPrefix(strings.TrimPrefix(s.URL, "http://"), "https://")
	}
	reaches := func(t *testing.T, c *Client, err error) {
		t.Helper()
		require.NoError(t, err)
		defer c.Close()
		assert.Zero(t, c.respTimeout)
		ctr, err := c.ContainerInspect(context.Background(), "abc")
		require.NoError(t, err)
		assert.Equal(t, "abc", ctr.ID)
	}
	t.Run("option", func(t *testing.T) {
		c, err := New(WithHost(hostOf(plain)), WithResponseTimeout(0))
		reaches(t, c, err)
	})
	t.Run("env", func(t *testing.T) {
		t.Setenv(EnvResponseTimeout, "0")
		c, err := New(WithHost(hostOf(plain)))
		reaches(t, c, err)
	})
	t.Run("tls", func(t *testing.T) {
		// The test server's certificate is for 127.0.0.1: the client
		// names the host it dials as the server name and trusts the CA
		// of the endpoint's TLS config.
		cfg := secure.Client().Transport.(*http.Transport).TLSClientConfig
		require.Empty(t, cfg.ServerName)
		c, err := New(WithEndpoint(Endpoint{Host: hostOf(secure), From: "option", TLS: cfg}), WithResponseTimeout(0))
		reaches(t, c, err)
	})
}
