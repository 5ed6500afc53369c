package berth_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/wait"
)

// jobMode marks this test binary running inside a container as a CI job
// would (TestPortsFromAJobContainer).
const jobMode = "BERTH_JOB_CONTAINER"

// A CI job that runs in a container with the host's engine socket mounted
// starts a service and reaches its published port: 127.0.0.1 is the job
// container's own loopback there, so berth must find the host's side of
// the bridge. The job is this test binary, run in a Debian container.
func TestPortsFromAJobContainer(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	if h.Engine().Host() != "unix:///var/run/docker.sock" {
		t.Skip("needs the engine's own socket at /var/run/docker.sock to mount into the job container")
	}
	self, err := os.Executable()
	require.NoError(t, err)
	job := h.Container("berth-fixtures/bookworm-base:1").
		BindMount(self, "/job/berth.test", true).
		BindMount("/var/run/docker.sock", "/var/run/docker.sock", false).
		Env(jobMode, "1").
		Cmd("/job/berth.test", "-test.run", "^TestPortsFromAJobContainerInner$", "-test.v", "-test.count=1").
		Start()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	st, err := job.WaitExit(ctx)
	require.NoError(t, err)
	logs, err := job.LogsSnapshot(context.Background())
	require.NoError(t, err)
	out := string(logs.Stdout) + string(logs.Stderr)
	require.Equal(t, 0, st.ExitCode, "the job's test failed:\n%s", out)
	assert.Contains(t, out, "--- PASS: TestPortsFromAJobContainerInner")
	assert.Contains(t, out, "fetched: berth-job-ok")

	// The job's own session removed what it made.
	var session string
	for _, line := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "job session "); ok {
			session = s
		}
	}
	require.NotEmpty(t, session, "the job printed its session:\n%s", out)
	rs, err := h.Engine().List(context.Background(), engine.Labelled(engine.SessionSelector(session)))
	require.NoError(t, err)
	assert.Empty(t, rs, "left by the job")
}

// TestPortsFromAJobContainerInner is the job of TestPortsFromAJobContainer.
func TestPortsFromAJobContainerInner(t *testing.T) {
	if os.Getenv(jobMode) == "" {
		t.Skip("runs only inside the job container of TestPortsFromAJobContainer")
	}
	h := berth.New(t)
	fmt.Printf("job session %s\n", h.Session().ID())
	c := h.Container(busybox).
		Cmd("sh", "-c", "mkdir -p /www && echo berth-job-ok > /www/index.html && exec httpd -f -p 8080 -h /www").
		Port("8080/tcp").
		WaitFor(wait.ForHTTP("/").Port("8080/tcp")).
		Start()
	url := c.Endpoint(t.Context(), "8080/tcp")
	host, err := c.Host(t.Context())
	require.NoError(t, err)
	require.NotEqual(t, "127.0.0.1", host, "from inside a container the host's ports are not on loopback")
	resp, err := http.Get(url + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	fmt.Printf("fetched: %s", body)
}
