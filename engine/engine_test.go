package engine_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/network"
)

// TestInventoryOfASession makes one resource of each kind in a session of
// its own, finds exactly those by the session's label, and removes them in
// order (the container holds the network and the volume).
func TestInventoryOfASession(t *testing.T) {
	ctx := t.Context()
	s, err := berth.NewSession(ctx, berth.WithoutWatchdog())
	require.NoError(t, err)
	c := s.Engine()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s.Close(ctx)
	})
	net, err := s.NetworkE(ctx, "inventory")
	require.NoError(t, err)
	ctr, err := s.Container("busybox:1.36").Cmd("sleep", "600").
		Network(net, "app").VolumeMount("inv", "/data").StartE(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Tag(ctx, "busybox:1.36", "berth-test/inventory:"+s.ID()[:8]))

	rs, err := c.List(ctx, engine.Labelled(engine.SessionSelector(s.ID())))
	require.NoError(t, err)
	var kinds []engine.Kind
	for _, r := range rs {
		kinds = append(kinds, r.Kind)
		assert.Equal(t, s.ID(), r.Session(), "%s", r)
	}
	// The tag is not labelled: tags carry the image's labels, not ours.
	assert.Equal(t, []engine.Kind{engine.KindContainer, engine.KindNetwork, engine.KindVolume}, kinds, "what the session made, in removal order")
	assert.Equal(t, ctr.ID(), rs[0].ID)
	assert.Equal(t, "running", rs[0].State)
	assert.Contains(t, rs[1].String(), "network berth-inventory-")

	got, err := c.Network(ctx, net.ID())
	require.NoError(t, err)
	assert.Equal(t, net.Name(), got.Name)

	removed, err := c.RemoveSession(ctx, s.ID())
	require.NoError(t, err)
	assert.Len(t, removed, 3)
	left, err := c.List(ctx, engine.Labelled(engine.SessionSelector(s.ID())))
	require.NoError(t, err)
	assert.Empty(t, left, "RemoveSession leaves nothing of the session")
	_, err = c.Network(ctx, net.ID())
	assert.ErrorIs(t, err, engine.ErrNotFound)
	// Removing what is gone already is not an error.
	assert.NoError(t, c.Remove(ctx, rs[0]))
	assert.NoError(t, c.RemoveAll(ctx, rs))
}

func TestRemoveSessionRefusesAnEmptyID(t *testing.T) {
	c, err := engine.New(engine.WithHost("tcp://127.0.0.1:1"))
	require.NoError(t, err)
	defer c.Close()
	for _, id := range []string{"", "a=b", "a,b"} {
		_, err := c.RemoveSession(t.Context(), id)
		assert.ErrorContains(t, err, "give the session ID", "%q would widen the filter", id)
	}
}

func TestServerAndImage(t *testing.T) {
	c, err := engine.New()
	require.NoError(t, err)
	defer c.Close()
	ctx := t.Context()
	v, err := c.Version(ctx)
	require.NoError(t, err)
	assert.Regexp(t, `^1\.\d+$`, v)
	srv, err := c.Server(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, srv.Version)
	assert.Equal(t, "linux", srv.OS)
	assert.Equal(t, srv.OS+"/"+srv.Arch, srv.Platform())
	img, err := c.Image(ctx, "busybox:1.36")
	require.NoError(t, err)
	assert.Contains(t, img.Tags, "busybox:1.36")
	assert.True(t, strings.HasPrefix(img.ID, "sha256:"), img.ID)
	imgs, err := c.Images(ctx, engine.Filter{"reference": {"busybox:1.36"}})
	require.NoError(t, err)
	require.Len(t, imgs, 1)
	assert.Equal(t, img.ID, imgs[0].ID)
	_, err = c.Image(ctx, "berth-test/no-such-image:0")
	assert.ErrorIs(t, err, engine.ErrNotFound)
	assert.True(t, c.Local())
	assert.Equal(t, "127.0.0.1", c.PublishHost())
}

func TestClosedClient(t *testing.T) {
	c, err := engine.New()
	require.NoError(t, err)
	_, err = c.Version(t.Context())
	require.NoError(t, err)
	require.NoError(t, c.Close())
	_, err = c.Images(t.Context(), nil)
	assert.ErrorIs(t, err, engine.ErrClosed)
	assert.ErrorIs(t, c.Ping(t.Context()), engine.ErrClosed)

	// A closed session's calls fail the same way, and create nothing.
	s, err := berth.NewSession(t.Context(), berth.WithoutWatchdog())
	require.NoError(t, err)
	require.NoError(t, s.Close(t.Context()))
	_, err = s.Container("busybox:1.36").Cmd("true").StartE(t.Context())
	assert.ErrorIs(t, err, engine.ErrClosed)
	_, err = s.NetworkE(t.Context(), "after-close")
	assert.ErrorIs(t, err, engine.ErrClosed)
}

func TestHostHidesThePassword(t *testing.T) {
	for _, h := range []string{"tcp://bob:s3cret-pw@10.0.0.5:2376", "ssh://ci:s3cret-pw@build-host"} {
		c, err := engine.New(engine.WithHost(h))
		require.NoError(t, err)
		assert.NotContains(t, c.Host(), "s3cret-pw")
		assert.Contains(t, c.Host(), "xxxxx")
		c.Close()
	}
	c, err := engine.New(engine.WithHost("tcp://10.0.0.5:2376"))
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, "tcp://10.0.0.5:2376", c.Host())
	assert.Equal(t, "option", c.HostFrom())
	assert.False(t, c.Local())
	assert.Equal(t, "10.0.0.5", c.PublishHost())
}

// TestFakeEngine points a client at an httptest server: the public client
// is what a user's helper takes, so a user can fake the engine for it.
func TestFakeEngine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("API-Version", "1.41")
		switch {
		case r.URL.Path == "/_ping":
			fmt.Fprint(w, "OK")
		case strings.HasSuffix(r.URL.Path, "/volumes"):
			assert.Equal(t, `{"label":["team=a"]}`, r.URL.Query().Get("filters"))
			fmt.Fprint(w, `{"Volumes":[{"Name":"v1","Labels":{"team":"a"},"CreatedAt":"2026-12-01T10:00:00Z"}]}`)
		case strings.Contains(r.URL.Path, "/volumes/v1"):
			w.WriteHeader(http.StatusConflict)
			fmt.Fprint(w, `{"message":"volume is in use"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, err := engine.New(engine.WithHost("tcp://" + strings.TrimPrefix(srv.URL, "http://")))
	require.NoError(t, err)
	defer c.Close()
	vs, err := c.Volumes(t.Context(), engine.Labelled("team=a"))
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Equal(t, "v1", vs[0].Name)
	assert.Equal(t, 2026, vs[0].Created.Year())
	err = c.Remove(t.Context(), vs[0])
	assert.ErrorIs(t, err, engine.ErrConflict)
	assert.ErrorContains(t, err, "remove volume v1")
	assert.False(t, errors.Is(err, engine.ErrNotFound))
}

func TestNilClientIsATypedError(t *testing.T) {
	_, err := container.Run(t.Context(), nil, container.Spec{Image: "busybox:1.36", Cmd: []string{"true"}}, container.RunOptions{})
	assert.ErrorIs(t, err, engine.ErrNoClient)
	_, err = network.Create(t.Context(), nil, network.Options{Name: "berth-nil"})
	assert.ErrorIs(t, err, engine.ErrNoClient)
}
