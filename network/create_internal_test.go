package network

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
)

// TestCreateRetriesPodmanInterfaceRace covers Podman failing a create while
// an interface it lists to pick a subnet goes away.
func TestCreateRetriesPodmanInterfaceRace(t *testing.T) {
	var creates, failures atomic.Int32
	failures.Store(2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_ping" {
			w.Header().Set("API-Version", "1.41")
			w.Header().Set("Server", "Libpod/4.3.1 (linux)")
			return
		}
		if strings.HasSuffix(r.URL.Path, "/networks/create") && creates.Add(1) <= failures.Load() {
			http.Error(w, `{"cause":"no such network interface","message":"route ip+net: no such network interface","response":500}`, 500)
			return
		}
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"Id":"n1"}`))
	}))
	defer srv.Close()
	c, err := wire.New(wire.WithHost("tcp://" + strings.TrimPrefix(srv.URL, "http://")))
	require.NoError(t, err)
	defer c.Close()

	n, err := Create(context.Background(), testenv.Public(c), Options{Name: "raced"})
	require.NoError(t, err)
	assert.Equal(t, "n1", n.ID())
	assert.Equal(t, int32(3), creates.Load())

	// It gives up after a few tries, with the engine's message.
	creates.Store(0)
	failures.Store(100)
	_, err = Create(context.Background(), testenv.Public(c), Options{Name: "raced"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no such network interface")
	assert.Equal(t, int32(5), creates.Load())
}
