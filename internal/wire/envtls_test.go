package wire

import (
	"context"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// DOCKER_TLS_VERIFY with DOCKER_CERT_PATH: the client trusts the CA in
// that directory and talks TLS to DOCKER_HOST.
func TestTLSFromEnvironment(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("API-Version", "1.41")
		w.Write([]byte("OK"))
	}))
	defer srv.Close()
	certs := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	require.NoError(t, os.WriteFile(filepath.Join(certs, "ca.pem"), ca, 0o600))
	t.Setenv("DOCKER_CONTEXT", "")
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no ca.pem there
	t.Setenv("DOCKER_HOST", "tcp://"+strings.TrimPrefix(srv.URL, "https://"))
	t.Setenv("DOCKER_TLS_VERIFY", "1")
	t.Setenv("DOCKER_CERT_PATH", certs)

	ep, err := EndpointFromEnv()
	require.NoError(t, err)
	require.NotNil(t, ep.TLS)
	assert.False(t, ep.TLS.InsecureSkipVerify)
	c, err := New()
	require.NoError(t, err)
	defer c.Close()
	p, err := c.Ping(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "1.41", p.APIVersion)
}

// Stream errors about credentials or missing images match the typed
// errors by their code as well as by their words.
func TestStreamErrorIs(t *testing.T) {
	assert.ErrorIs(t, &StreamError{Code: http.StatusUnauthorized, Message: "denied"}, ErrUnauthorized)
	assert.ErrorIs(t, &StreamError{Code: http.StatusNotFound, Message: "gone"}, ErrNotFound)
	assert.ErrorIs(t, &StreamError{Message: "manifest unknown"}, ErrNotFound)
	plain := &StreamError{Code: http.StatusInternalServerError, Message: "disk full"}
	assert.False(t, errors.Is(plain, ErrUnauthorized))
	assert.False(t, errors.Is(plain, ErrNotFound))
}

// Closing a hijacked connection stops what watches it, once, and closes
// the connection.
func TestHijackedConnCloseStops(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	stops := 0
	h := &HijackedConn{Conn: a, r: a, stop: func() bool { stops++; return true }}
	require.NoError(t, h.Close())
	require.NoError(t, h.Close())
	assert.Equal(t, 1, stops)
	_, err := a.Write([]byte("x"))
	assert.Error(t, err, "the connection is closed")
}
