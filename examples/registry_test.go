package examples

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/wait"
)

// The bcrypt hash of registryPassword, as `htpasswd -Bbn` writes it.
const (
	registryUser     = "berth"
	registryPassword = "s3cr3t-registry-pw"
	htpasswdLine     = "berth:$2y$05$28MfBrGyq3L/x0iArU.GBe6EoemIgf1dSSjUIn3AL5rJUxAvOFQ/a\n"
)

// TestPrivateRegistryPull pulls an image from a registry that wants
// credentials, with nothing but the user's Docker config: the same
// config.json `docker login` writes.
func TestPrivateRegistryPull(t *testing.T) {
	h := berth.New(t)
	ctx := t.Context()
	reg := h.Container("registry:2.8").
		Env("REGISTRY_AUTH", "htpasswd").
		Env("REGISTRY_AUTH_HTPASSWD_REALM", "berth").
		Env("REGISTRY_AUTH_HTPASSWD_PATH", "/auth/htpasswd").
		FileContent("/auth/htpasswd", []byte(htpasswdLine), 0o644).
		Port("5000/tcp").
		WaitFor(wait.ForHTTP("/v2/").Port("5000/tcp").Status(401)).
		Start()
	port, err := reg.MappedPort(ctx, "5000/tcp")
	require.NoError(t, err)
	host := fmt.Sprintf("localhost:%d", port) // the engine treats localhost registries as plain HTTP
	ref := host + "/private/busybox:1"

	// The user's Docker config, as `docker login` leaves it.
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(registryUser + ":" + registryPassword))
	config := fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, host, auth)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o600))
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("DOCKER_AUTH_CONFIG", "")

	// Publish a private image, then drop the local copy so Start must pull.
	require.NoError(t, h.Tag(ctx, "busybox:1.36", ref))
	require.NoError(t, h.Session().Push(ctx, ref, nil))
	require.NoError(t, h.Engine().Remove(ctx, engine.Resource{Kind: engine.KindImage, ID: ref}))

	c := h.Container(ref).Cmd("echo", "pulled with the user's credentials").WaitFor(wait.ForExit()).Start()
	out, err := c.LogsSnapshot(ctx)
	require.NoError(t, err)
	assert.Equal(t, "pulled with the user's credentials\n", string(out.Stdout))
	require.NoError(t, h.Engine().Remove(ctx, engine.Resource{Kind: engine.KindImage, ID: ref}))

	// Without credentials the registry refuses, and the error says so
	// without leaking anything.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	_, err = h.Container(ref).StartE(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "without credentials")
	assert.NotContains(t, err.Error(), registryPassword)
}
