package container_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
)

// TestCheckpointWithoutExperimental runs against the real engine. Without
// experimental mode (as CI starts it) every checkpoint call must say that
// mode is needed; an engine in experimental mode has checkpoints, and the
// test is skipped there (TestCheckpointOnFakeExperimentalEngine covers the
// calls). Podman's Docker API has no checkpoint endpoints at all (and its
// start would ignore the checkpoint): there every call must say that.
func TestCheckpointWithoutExperimental(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	podman := h.Engine().IsPodman(ctx)
	if !podman {
		info, err := testenv.Wire(h.Engine()).Info(ctx)
		require.NoError(t, err)
		if info.ExperimentalBuild {
			t.Skip("the engine runs in experimental mode, where checkpoints exist: this test is for an engine without it")
		}
	}
	c := h.Container(busybox).Cmd("sleep", "3600").Start()

	calls := []struct {
		name string
		call func() error
	}{
		{"Checkpoint", func() error { return c.Checkpoint(ctx, "cp1") }},
		{"Checkpoints", func() error { _, err := c.Checkpoints(ctx); return err }},
		{"DeleteCheckpoint", func() error { return c.DeleteCheckpoint(ctx, "no-such-checkpoint") }},
		{"StartFromCheckpoint", func() error {
			if err := c.Stop(ctx, 0); err != nil {
				return err
			}
			return c.StartFromCheckpoint(ctx, "no-such-checkpoint")
		}},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.ErrorIs(t, err, wire.ErrUnsupported)
			var ae *wire.APIError
			require.ErrorAs(t, err, &ae, "the engine's answer stays in the chain")
			msg := err.Error()
			assert.Contains(t, msg, c.String())
			if podman {
				assert.Contains(t, msg, "Podman's Docker API has none")
			} else {
				assert.Contains(t, msg, "experimental mode")
			}
			assert.Contains(t, msg, "CRIU")
		})
	}
	// Nothing was left half done: the container is stopped, not broken.
	st, err := c.State(ctx)
	require.NoError(t, err)
	assert.Equal(t, "exited", st.Status)
}

func TestCheckpointBadNames(t *testing.T) {
	t.Parallel()
	c := fakeCheckpointEngine(t)
	ctx := t.Context()
	for _, name := range []string{"", "../escape", "a/b", "-dash", "with space", ".hidden"} {
		t.Run(name, func(t *testing.T) {
			for _, err := range []error{
				c.Checkpoint(ctx, name), c.DeleteCheckpoint(ctx, name), c.StartFromCheckpoint(ctx, name),
			} {
				require.ErrorIs(t, err, container.ErrInvalidSpec)
				assert.Contains(t, err.Error(), "checkpoint name")
			}
		})
	}
}

// fakeCheckpointEngine answers like an experimental engine with CRIU that
// knows one checkpoint, "cp1", of container "abc".
func fakeCheckpointEngine(t *testing.T) *container.Container {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		if i := strings.Index(path[1:], "/"); strings.HasPrefix(path, "/v1.") && i > 0 {
			path = path[i+1:]
		}
		fail := func(code int, msg string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			json.NewEncoder(w).Encode(map[string]string{"message": msg})
		}
		switch {
		case path == "/_ping":
			w.Header().Set("API-Version", "1.41")
			w.Write([]byte("OK"))
		case path == "/containers/abc/json":
			json.NewEncoder(w).Encode(map[string]any{"Id": "abc", "Name": "/fake", "Config": map[string]any{"Image": "busybox:1.36"}})
		case path == "/containers/abc/checkpoints" && r.Method == http.MethodGet:
			json.NewEncoder(w).Encode([]map[string]string{{"Name": "cp1"}})
		case path == "/containers/abc/checkpoints" && r.Method == http.MethodPost:
			var body struct{ CheckpointID string }
			json.NewDecoder(r.Body).Decode(&body)
			switch body.CheckpointID {
			case "cp1":
				fail(500, "checkpoint with name cp1 already exists for container abc")
			case "nocriu":
				fail(500, `Cannot checkpoint container abc: runc did not terminate successfully: exec: "criu": executable file not found in $PATH: unknown`)
			default:
				w.WriteHeader(http.StatusCreated)
			}
		case path == "/containers/abc/checkpoints/cp1" && r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case strings.HasPrefix(path, "/containers/abc/checkpoints/") && r.Method == http.MethodDelete:
			fail(500, "checkpoint "+strings.TrimPrefix(path, "/containers/abc/checkpoints/")+" does not exist for container abc")
		case path == "/containers/abc/start" && r.URL.Query().Get("checkpoint") == "cp1":
			w.WriteHeader(http.StatusNoContent)
		case path == "/containers/abc/start":
			fail(500, "checkpoint "+r.URL.Query().Get("checkpoint")+" does not exist for container abc")
		default:
			fail(404, "page not found")
		}
	}))
	t.Cleanup(srv.Close)
	client, err := wire.New(wire.WithHost("tcp://" + strings.TrimPrefix(srv.URL, "http://")))
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	c, err := container.Attach(t.Context(), testenv.Public(client), "abc")
	require.NoError(t, err)
	return c
}

// TestCheckpointOnFakeExperimentalEngine runs the checkpoint calls against
// an httptest engine that answers like one in experimental mode with CRIU.
func TestCheckpointOnFakeExperimentalEngine(t *testing.T) {
	t.Parallel()
	c := fakeCheckpointEngine(t)
	ctx := context.Background()

	names, err := c.Checkpoints(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"cp1"}, names)
	require.NoError(t, c.Checkpoint(ctx, "cp2"))
	require.NoError(t, c.DeleteCheckpoint(ctx, "cp1"))
	require.NoError(t, c.StartFromCheckpoint(ctx, "cp1"))

	t.Run("unknown name", func(t *testing.T) {
		for _, err := range []error{c.DeleteCheckpoint(ctx, "nope"), c.StartFromCheckpoint(ctx, "nope")} {
			require.ErrorIs(t, err, container.ErrCheckpointNotFound)
			require.ErrorIs(t, err, wire.ErrNotFound)
			assert.Contains(t, err.Error(), `checkpoint "nope" of `+c.String())
			assert.Contains(t, err.Error(), "list them with Checkpoints")
		}
	})
	t.Run("name taken", func(t *testing.T) {
		err := c.Checkpoint(ctx, "cp1")
		require.ErrorIs(t, err, wire.ErrConflict)
		assert.NotErrorIs(t, err, wire.ErrUnsupported)
	})
	t.Run("no CRIU", func(t *testing.T) {
		err := c.Checkpoint(ctx, "nocriu")
		require.ErrorIs(t, err, wire.ErrUnsupported)
		assert.Contains(t, err.Error(), "CRIU installed")
	})
}
