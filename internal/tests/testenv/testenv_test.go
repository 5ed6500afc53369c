package testenv_test

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
)

// A built image, and the child tagged from it, are gone once the test
// that made them ended.
func TestBuiltImagesGoWithTheirTest(t *testing.T) {
	c := testenv.Engine(t)
	var parent, child string
	t.Run("builds", func(t *testing.T) {
		parent = testenv.BuildFiles(t, c, map[string]string{
			"Dockerfile": "FROM scratch\nCOPY hello /hello\nLABEL berth.test=" + t.Name() + "\n",
			"hello":      "hello\n",
		}, nil)
		child = testenv.BuildFiles(t, c, map[string]string{
			"Dockerfile": "FROM " + parent + "\nLABEL child=1\n",
		}, url.Values{"t": {"berth-testenv/child:" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))}})
		_, err := c.ImageInspect(t.Context(), child)
		require.NoError(t, err)
	})
	for _, id := range []string{parent, child} {
		_, err := c.ImageInspect(context.Background(), id)
		assert.ErrorIs(t, err, wire.ErrNotFound, id)
	}
}

func TestFailedBuildSaysWhy(t *testing.T) {
	c := testenv.Engine(t)
	var ctx bytes.Buffer // not a tar: the engine cannot read a Dockerfile from it
	ctx.WriteString("not a tar")
	_, err := testenv.Build(t, c, &ctx, nil)
	require.Error(t, err)
}
