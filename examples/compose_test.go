package examples

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/compose"
	"github.com/berth-go/berth/wait"
)

// TestComposeFile runs testdata/compose/docker-compose.yml: postgres with
// an init script and a service built from a Dockerfile that waits for the
// database to be healthy. The test sets the file's ${APP_VERSION}, adds a
// wait of its own, and reaches the app on a random host port.
func TestComposeFile(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	stack := compose.Up(h, "testdata/compose/docker-compose.yml",
		compose.Var("APP_VERSION", "2.0.0"),
		compose.WaitFor("app", wait.ForHTTP("/healthz").Port("8080/tcp")))

	app := stack.Service("app")
	get := func(path string) string { return getText(t, app.Endpoint(ctx, "8080/tcp")+path) }
	assert.Equal(t, "2.0.0", get("/version"), "${APP_VERSION} reached the build arg")
	assert.Equal(t, "2", get("/cgi-bin/orders"), "the app reads the seeded orders from the service db")
	t.Logf("docker compose -p %s ps would list %v", stack.Name(), stack.Services())
}
