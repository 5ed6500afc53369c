package regauth

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/registry"
)

// The messages are the engines' own (Docker Engine 20.10 classic and
// BuildKit, against an htpasswd registry and Docker Hub).
func TestRefusalNamesTheRegistry(t *testing.T) {
	tests := []struct {
		name, msg, step string
		refused         bool
		host            string
	}{
		{"classic, no credentials", `Head "http://localhost:35581/v2/team/tool/manifests/1": no basic auth credentials`, "Step 1/5 : FROM localhost:35581/team/tool:1", true, "localhost:35581"},
		{"classic, wrong credentials", "unauthorized: authentication required", "Step 1/5 : FROM localhost:35581/team/tool:1", true, "localhost:35581"},
		{"classic, COPY --from", `invalid from flag value localhost:5000/a:1: Head "http://localhost:5000/v2/a/manifests/1": no basic auth credentials`, "Step 2/5 : COPY --from=localhost:5000/a:1 /x /y", true, "localhost:5000"},
		{"buildkit, metadata", "failed to create LLB definition: pulling from host localhost:33575 failed with status code [manifests 1]: 401 Unauthorized", "[internal] load metadata for localhost:33575/private/base:1", true, "localhost:33575"},
		{"buildkit, step only", "401 Unauthorized", "[internal] load metadata for registry.example.com/team/app:2", true, "registry.example.com"},
		{"buildkit, mount from", "401 Unauthorized", "[stage-0 2/2] RUN --mount=type=bind,from=ghcr.io/o/tools:1,target=/t ls", true, "ghcr.io"},
		{"hub, denied", "pull access denied for team/private, repository does not exist or may require 'docker login': denied: requested access to the resource is denied", "Step 1/2 : FROM team/private", true, "docker.io"},
		{"hub URL", `Get "https://registry-1.docker.io/v2/team/private/manifests/1": unauthorized: incorrect username or password`, "", true, "docker.io"},
		{"hub token server", `Get "https://auth.docker.io/token?scope=x": unauthorized`, "", true, "docker.io"},
		{"ecr-style denied", "denied: Your authorization token has expired. Reauthenticate and try again.", "Step 1/2 : FROM 1234.dkr.ecr.eu-west-1.amazonaws.com/app:1", true, "1234.dkr.ecr.eu-west-1.amazonaws.com"},
		{"no host anywhere", "unauthorized: authentication required", "Step 1/2 : FROM $BASE", true, ""},
		{"failed RUN quoting unauthorized", `process "/bin/sh -c curl https://x/unauthorized" did not complete successfully: exit code: 22`, "[2/2] RUN curl", false, ""},
		{"classic failed RUN", "The command '/bin/sh -c echo denied: no' returned a non-zero code: 1", "Step 2/2 : RUN echo denied: no", false, ""},
		{"permission denied", "failed to copy files: open /x: permission denied", "[2/2] COPY x /x", false, ""},
		{"not found", "pull access denied for nope, repository does not exist", "Step 1/2 : FROM nope", true, "docker.io"},
		{"missing file", `failed to compute cache key: "/nope.txt" not found: not found`, "[2/2] COPY nope.txt /", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, ok := NewRecorder(registry.Static(nil)).Refusal(tt.msg, tt.step)
			assert.Equal(t, tt.refused, ok)
			assert.Equal(t, tt.host, host)
		})
	}
}

// The recorder remembers what it gave for which registry, never the
// credentials, and names the one registry asked when nothing else does.
func TestRecorder(t *testing.T) {
	ctx := context.Background()
	rec := NewRecorder(registry.Static(map[string]registry.AuthConfig{"localhost:5000": {Username: "u", Password: "s3cr3t"}}))
	_, src, err := rec.Resolve(ctx, "localhost:5000")
	require.NoError(t, err)
	assert.Equal(t, registry.SourceExplicit, src.Kind)
	assert.Equal(t, registry.SourceExplicit, rec.Sent("localhost:5000").Kind)
	assert.Equal(t, registry.SourceAnonymous, rec.Sent("other:5000").Kind, "never asked")

	host, ok := rec.Refusal("unauthorized: authentication required", "")
	assert.True(t, ok)
	assert.Equal(t, "localhost:5000", host, "the only registry asked")

	_, _, err = rec.Resolve(ctx, "registry-1.docker.io")
	require.NoError(t, err)
	assert.Equal(t, []string{"docker.io", "localhost:5000"}, rec.Asked())
	assert.Equal(t, registry.SourceAnonymous, rec.Sent("docker.io").Kind, "asked, none given")
	host, _ = rec.Refusal("unauthorized: authentication required", "")
	assert.Empty(t, host, "two registries asked: the message must tell")

	failing := NewRecorder(failingKeychain{})
	_, _, err = failing.Resolve(ctx, "localhost:5000")
	require.Error(t, err)
	assert.Equal(t, registry.SourceAnonymous, failing.Sent("localhost:5000").Kind, "a failed lookup gave nothing")
}

type failingKeychain struct{}

func (failingKeychain) Resolve(context.Context, string) (registry.AuthConfig, registry.Source, error) {
	return registry.AuthConfig{}, registry.Source{}, errors.New("helper failed")
}

func FuzzRegistry(f *testing.F) {
	f.Add(`Head "http://localhost:35581/v2/a/manifests/1": no basic auth credentials`, "Step 1/5 : FROM localhost:35581/a:1")
	f.Add("pulling from host h:1 failed with status code: 401 Unauthorized", "[internal] load metadata for h:1/a")
	f.Add("denied: x", "RUN --mount=from=,target=/x")
	f.Fuzz(func(t *testing.T, msg, step string) {
		Refused(msg)
		if h := Registry(msg, step); h != "" && Host(h) != h {
			t.Errorf("Registry(%q, %q) = %q, not a normalised host", msg, step, h)
		}
	})
}
