//go:build !mutation

// Needs an engine: left out of mutation runs (scripts/mutation.sh).

package build

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/internal/tests/testenv"
)

// The context tar as the real engine's classic builder sees it: an ignored
// file is not there to COPY, an included one is.
func TestContextOnRealEngine(t *testing.T) {
	c := testenv.Engine(t)
	dir := testenv.Tree(t, map[string]string{
		".dockerignore": "secret.txt\n",
		"secret.txt":    "do not send",
		"app.txt":       "sent",
	})
	build := func(dockerfile string) (string, error) {
		bc := DirContext(dir).WithDockerfileContent([]byte(dockerfile + "\nLABEL berth.test=" + t.Name() + "\n"))
		rc := bc.Reader(t.Context(), true)
		defer rc.Close()
		return testenv.Build(t, c, rc, url.Values{"dockerfile": {bc.DockerfileName()}})
	}
	id, err := build("FROM scratch\nCOPY app.txt /app.txt")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(id, "sha256:"))
	_, err = build("FROM scratch\nCOPY secret.txt /secret.txt")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "secret.txt")
}
