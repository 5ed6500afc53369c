package buildkit_test

import (
	"fmt"
	"testing"

	"github.com/berth-go/berth"
	_ "github.com/berth-go/berth/build/buildkit" // BuildKit whenever the engine offers it
)

// With the blank import, a test's builds use BuildKit: a secret only a RUN
// step sees, an ssh agent, a cache directory, and the image also written
// to a file that `docker load` reads. BERTH_BUILDER=classic would refuse
// the secret with build.ErrNeedsBuildKit.
func Example() {
	var t *testing.T // the test's *testing.T
	h := berth.New(t)
	img := h.BuildFiles(map[string][]byte{
		"Dockerfile": []byte("FROM busybox:1.36\nRUN --mount=type=secret,id=token test -s /run/secrets/token\n"),
	}).
		SecretEnv("token", "API_TOKEN").
		CacheFrom(".cache/build").CacheTo(".cache/build").
		ExportDocker("image.tar").
		Image()
	fmt.Println(img)
}
