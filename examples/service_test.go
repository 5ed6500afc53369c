package examples

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/berth-go/berth"
	_ "github.com/berth-go/berth/build/buildkit" // builds use BuildKit when the engine offers it
	"github.com/berth-go/berth/modules/postgres"
	"github.com/berth-go/berth/wait"
)

// TestServiceFromDockerfile builds a service from testdata/app, runs it
// beside postgres on a private network where it finds the database by
// alias, and calls it over HTTP from the test.
func TestServiceFromDockerfile(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	net := h.Network("backend")
	pg := postgres.New(h).Database("orders").InitScript("testdata/schema.sql").Network(net, "db").Start()

	app := h.Build("./testdata/app").Target("prod").Arg("VERSION", "1.2.3").Image()
	svc := h.Container(app).
		Env("DB_URL", pg.NetworkDSN("db")).
		Port("8080/tcp").
		Network(net, "app").
		WaitFor(wait.ForHTTP("/healthz").Port("8080/tcp").Status(200)).
		Start()

	get := func(path string) string { return getText(t, svc.Endpoint(ctx, "8080/tcp")+path) }
	assert.Equal(t, "1.2.3", get("/version"))
	assert.Equal(t, "2", get("/cgi-bin/orders"), "the service reads the seeded orders through the network alias")
}
