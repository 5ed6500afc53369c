package wait_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/internal/testkit/testenv"
	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/wait"
)

const busybox = "busybox:1.36"

func TestMain(m *testing.M) { berth.Main(m) }

// buildImage builds a tiny image from a Dockerfile and extra files with the
// engine's classic builder. Call it before berth.New: the image is removed
// after the harness removed the containers, so it really goes.
func buildImage(t *testing.T, dockerfile string, files map[string][]byte) string {
	t.Helper()
	all := map[string]string{"Dockerfile": dockerfile + "\nLABEL berth.test=" + t.Name() + "\n"}
	for name, data := range files {
		all[name] = string(data)
	}
	return testenv.BuildFiles(t, testenv.Engine(t), all, nil)
}

func TestForLogLineAfterTwoSeconds(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	start := time.Now()
	h.Container(busybox).
		Cmd("sh", "-c", "echo booting; sleep 2; echo ready >&2; exec sleep 3600").
		WaitFor(wait.ForLog("ready")).
		Start()
	assert.GreaterOrEqual(t, time.Since(start), 2*time.Second)
}

func TestExitBeforeLogLineFailsFast(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	start := time.Now()
	_, err := h.Container(busybox).
		Cmd("sh", "-c", "echo 'fatal: no config'; sleep 2; exit 3").
		WaitFor(wait.ForLog("ready")).
		StartE(t.Context())
	require.Error(t, err)
	// The container lives 2 s after its start; the error must come at its
	// exit, not at the 60 s timeout. The bound is loose on purpose: a
	// loaded machine can take seconds to start a container.
	elapsed := time.Since(start)
	assert.GreaterOrEqual(t, elapsed, 2*time.Second)
	assert.Less(t, elapsed, 20*time.Second, "fail fast, not at the timeout")
	var ee *wait.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 3, ee.ExitCode)
	assert.Contains(t, err.Error(), "fatal: no config")
}

func TestForListeningPortOnScratchImage(t *testing.T) {
	t.Parallel()
	bb, err := os.ReadFile("/bin/busybox")
	require.NoError(t, err, "busybox-static provides the static server (make fixtures installs it)")
	// No shell, no cat: only a static server named httpd.
	img := buildImage(t, "FROM scratch\nCOPY httpd /httpd\nCOPY index.html /www/index.html\nCMD [\"/httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]", map[string][]byte{
		"httpd": bb, "index.html": []byte("scratch"),
	})
	h := berth.New(t)
	c := h.Container(img).Port("8080/tcp").WaitFor(wait.ForListeningPort("8080/tcp")).Start()
	res, err := c.Exec(t.Context(), []string{"/bin/sh", "-c", "true"})
	if err == nil {
		assert.NotEqual(t, 0, res.ExitCode, "the image must have no shell")
	}
}

func TestForListeningPortWaitsForTheProcess(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	start := time.Now()
	c := h.Container(busybox).
		Cmd("sh", "-c", "sleep 1.5; exec httpd -f -p 8080").
		Port("8080/tcp").
		WaitFor(wait.ForListeningPort("8080")).
		Start()
	// The engine's proxy accepts at once; the wait must not be fooled.
	assert.GreaterOrEqual(t, time.Since(start), 1500*time.Millisecond)
	_ = c
}

func TestForHTTPAndExecAndFile(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	h.Container(busybox).
		Cmd("sh", "-c", "mkdir -p /www; sleep 0.5; echo -n healthy > /www/health; touch /ready; exec httpd -f -p 8080 -h /www").
		Port("8080/tcp").
		WaitFor(wait.All(
			wait.ForHTTP("/health").Port("8080/tcp").Status(200).BodyMatcher(func(b []byte) bool { return string(b) == "healthy" }),
			wait.ForExec("test", "-f", "/ready"),
			wait.ForFile("/www/health").Matcher(func(b []byte) bool { return string(b) == "healthy" }),
		)).
		Start()
}

func TestForHTTPTimeoutSaysLastStatus(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	c := h.Container(busybox).
		Cmd("sh", "-c", "mkdir -p /www && exec httpd -f -p 8080 -h /www").
		Port("8080/tcp").
		WaitFor(wait.ForListeningPort("8080/tcp")).
		Start()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	err := wait.ForHTTP("/missing").Port("8080/tcp").Ready(ctx, c.Container)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "status 404")
	assert.Contains(t, err.Error(), "gave up waiting for http GET")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestForExit(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	h.Container(busybox).Cmd("sh", "-c", "echo migrating; exit 0").WaitFor(wait.ForExit()).Start()
	_, err := h.Container(busybox).Cmd("sh", "-c", "echo broken; exit 5").WaitFor(wait.ForExit()).StartE(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "code 5")
	assert.Contains(t, err.Error(), "broken")
}

func TestForHealthy(t *testing.T) {
	t.Parallel()
	healthy := buildImage(t, "FROM "+busybox+"\nHEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD test -f /tmp/ok\nCMD sh -c 'mkdir -p /tmp; sleep 1; touch /tmp/ok; exec sleep 3600'", nil)
	unhealthy := buildImage(t, "FROM "+busybox+"\nHEALTHCHECK --interval=1s --timeout=1s --retries=1 CMD false\nCMD [\"sleep\", \"3600\"]", nil)
	h := berth.New(t)
	h.Container(healthy).WaitFor(wait.ForHealthy()).Start()

	_, err := h.Container(unhealthy).WaitFor(wait.ForHealthy()).StartE(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unhealthy")

	_, err = h.Container(busybox).Cmd("sleep", "3600").WaitFor(wait.ForHealthy()).StartE(t.Context())
	assert.ErrorIs(t, err, wait.ErrNoHealthcheck)
}

func TestForSQLOnPostgres(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	c := h.Container("postgres:15-bookworm").
		Env("POSTGRES_PASSWORD", "s3cr3t-pg").
		Port("5432/tcp").
		WaitFor(wait.All(
			wait.ForLog("database system is ready to accept connections").Times(2),
			wait.ForSQL("5432/tcp", "pgx", func(host string, port int) string {
				return fmt.Sprintf("postgres://postgres:s3cr3t-pg@%s:%d/postgres?sslmode=disable", host, port)
			}),
		)).
		Start()
	db, err := sql.Open("pgx", fmt.Sprintf("postgres://postgres:s3cr3t-pg@%s/postgres?sslmode=disable", c.HostPort(t.Context(), "5432/tcp")))
	require.NoError(t, err)
	defer db.Close()
	var one int
	require.NoError(t, db.QueryRowContext(t.Context(), "SELECT 1").Scan(&one))
	assert.Equal(t, 1, one)
}

// BenchmarkPostgresStartToReady measures the postgres fixture from create to
// a successful SELECT 1.
func BenchmarkPostgresStartToReady(b *testing.B) {
	h := berth.New(b)
	for b.Loop() {
		c, err := h.Container("postgres:15-bookworm").
			Env("POSTGRES_PASSWORD", "s3cr3t-pg").
			Port("5432/tcp").
			WaitFor(wait.ForSQL("5432/tcp", "pgx", func(host string, port int) string {
				return fmt.Sprintf("postgres://postgres:s3cr3t-pg@%s:%d/postgres?sslmode=disable", host, port)
			})).
			StartE(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		c.Remove(context.Background())
		b.StartTimer()
	}
}

// BenchmarkForLogDetectionEngine measures, on the real engine, the time
// from the engine's own timestamp of a log line to ForLog returning.
func BenchmarkForLogDetectionEngine(b *testing.B) {
	h := berth.New(b)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		c, err := h.Container(busybox).Cmd("sh", "-c", "sleep 0.5; echo ready; exec sleep 60").StartE(ctx)
		require.NoError(b, err)
		b.StartTimer()
		require.NoError(b, wait.ForLog("ready").Ready(ctx, c.Container))
		done := time.Now()
		b.StopTimer()
		rc, err := testenv.Wire(h.Engine()).ContainerLogs(ctx, c.ID(), wire.LogsOptions{Stdout: true, Timestamps: true})
		require.NoError(b, err)
		var out bytes.Buffer
		require.NoError(b, wire.Demux(rc, &out, nil))
		rc.Close()
		for _, line := range strings.Split(out.String(), "\n") {
			if ts, text, ok := strings.Cut(line, " "); ok && text == "ready" {
				logged, err := time.Parse(time.RFC3339Nano, ts)
				require.NoError(b, err)
				b.ReportMetric(float64(done.Sub(logged).Microseconds()), "µs-after-logged")
			}
		}
		c.Remove(ctx)
		b.StartTimer()
	}
}
