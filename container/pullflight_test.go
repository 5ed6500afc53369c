package container_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/registry"
)

// slowRegistry answers /v2/ at once and holds every manifest request
// until release is closed, then says the manifest is unknown. It counts
// manifest requests.
func slowRegistry(t *testing.T, h *berth.Harness) (host string, manifests *atomic.Int32, release func()) {
	t.Helper()
	if testenv.Wire(h.Engine()).Endpoint().Scheme() != "unix" || h.Engine().IsPodman(t.Context()) {
		t.Skip("the engine must run on this machine and treat a loopback registry as plain HTTP")
	}
	manifests = &atomic.Int32{}
	gate := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		if r.URL.Path == "/v2/" {
			w.Write([]byte(`{}`))
			return
		}
		if strings.Contains(r.URL.Path, "/manifests/") {
			manifests.Add(1)
			select {
			case <-gate:
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`))
	}))
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(func() { release(); srv.Close() })
	return strings.TrimPrefix(srv.URL, "http://"), manifests, release
}

// Concurrent starts of one missing image share one pull, yet each gives up
// on its own ctx; starts with other credentials pull on their own.
func TestConcurrentPullsShareOneAndHonourEachContext(t *testing.T) {
	hermeticCredentials(t)
	h := berth.New(t)
	host, manifests, release := slowRegistry(t, h)
	ref := host + "/berth/slow:1"

	long, cancelLong := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancelLong()
	var wg sync.WaitGroup
	var longErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		longErr = container.EnsureImage(long, h.Engine(), ref, container.PullMissing, "", nil)
	}()
	require.Eventually(t, func() bool { return manifests.Load() >= 1 }, 20*time.Second, 10*time.Millisecond, "the first pull reached the registry")
	seen := manifests.Load()

	// A second caller joins the pull in flight and leaves when its own
	// ctx ends, long before the pull does.
	short, cancelShort := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancelShort()
	start := time.Now()
	err := container.EnsureImage(short, h.Engine(), ref, container.PullMissing, "", nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second, "the second caller waited for the first caller's pull")
	assert.Equal(t, seen, manifests.Load(), "the second caller made no pull of its own")

	// Other credentials are another pull.
	kc := registry.Static(map[string]registry.AuthConfig{host: {Username: "other", Password: "other-pw"}})
	other, cancelOther := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancelOther()
	_ = container.EnsureImage(other, h.Engine(), ref, container.PullMissing, "", kc)
	assert.Eventually(t, func() bool { return manifests.Load() > seen }, 10*time.Second, 10*time.Millisecond, "a pull with other credentials is not joined to the anonymous one")

	release()
	wg.Wait()
	require.Error(t, longErr)
	var pe *container.PullError
	require.ErrorAs(t, longErr, &pe, "the first caller gets the pull's own answer")
	assert.ErrorIs(t, longErr, container.ErrImageMissing)
}
