//go:build linux && !mutation

// Needs an engine: left out of mutation runs (scripts/mutation.sh).

package wire

import (
	"context"
	"crypto/tls"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/internal/tests/netstub"
)

// A TLS 1.3 engine that refuses the client certificate can close the
// connection so fast that a reset, not its alert, reaches the client
// first. This server does that every time: it finishes the handshake,
// then resets the connection without a word. The client's error must
// still be a *TLSError that says the certificate was refused, never a
// bare "connection reset by peer".
func TestClientCertRefusedByReset(t *testing.T) {
	ca := newTestCA(t, "berth reset CA")
	server := filepath.Join(t.TempDir(), "server")
	writeCertDir(t, server, ca, ca, true)
	client := filepath.Join(t.TempDir(), "client")
	writeCertDir(t, client, ca, ca, false)
	cert, err := tls.LoadX509KeyPair(filepath.Join(server, "cert.pem"), filepath.Join(server, "key.pem"))
	require.NoError(t, err)

	addr := netstub.Serve(t, func(conn net.Conn) {
		tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS13})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if tc.HandshakeContext(ctx) == nil {
			// Wait for the request, so unread data makes the close a
			// reset, and drop the connection.
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			conn.Read(make([]byte, 1))
		}
		conn.(*net.TCPConn).SetLinger(0)
	})

	cfg, err := loadTLS(client, true)
	require.NoError(t, err)
	c, err := New(WithEndpoint(Endpoint{Host: "tcp://" + addr, From: "test", TLS: cfg, TLSFrom: "DOCKER_CERT_PATH"}))
	require.NoError(t, err)
	defer c.Close()
	err = refusedVersion(t, c)
	var te *TLSError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, errClosedAfterHandshake)
	assert.Contains(t, err.Error(), "refused the client certificate from DOCKER_CERT_PATH")
}
