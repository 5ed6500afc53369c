package berth_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/buildtest"
	"github.com/berth-go/berth/registry"
)

// A Docker Hub image starts from the mirror the rule names, with the
// credentials the user's Docker config has for the mirror: the registry
// fixture stands in for a corporate Hub proxy.
func TestImageMirror(t *testing.T) {
	h := berth.New(t)
	ctx := t.Context()
	base, kc := buildtest.PrivateRegistry(t, h) // host/private/base:1, wants credentials
	host, _, _ := strings.Cut(base, "/")
	mirror := host + "/hub"
	// The mirror holds docker.io/library/busybox:1.36 under its prefix.
	proxied := mirror + "/library/busybox:1.36"
	require.NoError(t, h.Tag(ctx, "busybox:1.36", proxied))
	require.NoError(t, registry.Push(ctx, h.Engine(), kc, proxied, nil))
	require.NoError(t, h.Engine().Remove(ctx, engine.Resource{Kind: engine.KindImage, ID: proxied}))

	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte("berth:s3cr3t-registry-pw"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth)), 0o600))
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv(registry.EnvAuthConfig, "")

	for _, tc := range []struct {
		name string
		opt  []berth.Option
		env  map[string]string
	}{
		{"option", []berth.Option{berth.WithImageMirror("docker.io", mirror)}, nil},
		{"BERTH_IMAGE_MIRROR", nil, map[string]string{"BERTH_IMAGE_MIRROR": "docker.io=" + mirror}},
		{"TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX", nil, map[string]string{"TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX": mirror + "/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			s, err := berth.NewSession(ctx, append(tc.opt, berth.WithoutWatchdog())...)
			require.NoError(t, err)
			defer s.Close(context.Background())
			t.Cleanup(func() { h.Engine().Remove(context.Background(), engine.Resource{Kind: engine.KindImage, ID: proxied}) })
			c, err := s.Container("busybox:1.36").Cmd("echo", "from the mirror").StartE(ctx)
			require.NoError(t, err)
			assert.Equal(t, proxied, c.Image(), "the Hub reference was sent to the mirror")
			img, err := h.Engine().Image(ctx, proxied)
			require.NoError(t, err, "the image was pulled from the mirror")
			assert.Contains(t, img.Tags, proxied)
			require.NoError(t, h.Engine().Remove(ctx, engine.Resource{Kind: engine.KindImage, ID: proxied}))
		})
	}
}

func TestMirrorRules(t *testing.T) {
	t.Setenv("BERTH_IMAGE_MIRROR", "docker.io=mirror.corp/hub, ghcr.io=mirror.corp/ghcr/")
	s, err := berth.NewSession(t.Context(), berth.WithoutWatchdog(), berth.WithImageMirror("quay.io", "q.corp"))
	require.NoError(t, err)
	defer s.Close(context.Background())
	for in, want := range map[string]string{
		"postgres:15":                    "mirror.corp/hub/library/postgres:15",
		"docker.io/bitnami/redis:7":      "mirror.corp/hub/bitnami/redis:7",
		"ghcr.io/o/app:1":                "mirror.corp/ghcr/o/app:1",
		"quay.io/o/tool@sha256:" + hex64: "q.corp/o/tool@sha256:" + hex64,
		"localhost:5000/app:1":           "localhost:5000/app:1",
		"mirror.corp/hub/library/x:1":    "mirror.corp/hub/library/x:1",
		"sha256:" + hex64:                "sha256:" + hex64,
	} {
		assert.Equal(t, want, s.Container(in).Spec().Image, in)
	}
	t.Setenv("BERTH_IMAGE_MIRROR", "docker.io")
	_, err = berth.NewSession(t.Context(), berth.WithoutWatchdog())
	assert.ErrorContains(t, err, "is not REGISTRY=PREFIX")
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
