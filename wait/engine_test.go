//go:build !mutation

// Needs an engine: left out of mutation runs (scripts/mutation.sh).

package wait_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/internal/tests/testenv"
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

// Each strategy waits on a container that stays not-ready until the test
// says so: a strategy that ignores its matcher, exit code or regexp
// returns before, and fails the test.
func TestStrategiesWaitForTheirCondition(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	c := h.Container(busybox).
		Cmd("sh", "-c", `mkdir -p /www; echo -n starting > /www/health; echo -n starting > /tmp/state
echo state=starting
httpd -p 8080 -h /www
while [ ! -f /tmp/go ]; do sleep 0.1; done
echo -n healthy > /www/health; echo -n healthy > /tmp/state; touch /tmp/ready
echo state=2
exec sleep 3600`).
		Port("8080/tcp").
		WaitFor(wait.ForListeningPort("8080/tcp")).
		Start()
	healthy := func(b []byte) bool { return string(b) == "healthy" }
	strategies := []wait.Strategy{
		wait.ForHTTP("/health").Port("8080/tcp").Status(200).BodyMatcher(healthy),
		wait.ForExec("test", "-f", "/tmp/ready"),
		wait.ForExec("sh", "-c", "test -f /tmp/ready && exit 3; exit 0").ExitCode(3),
		wait.ForExec("cat", "/tmp/state").OutputMatcher(func(out, _ []byte) bool { return healthy(out) }),
		wait.ForFile("/tmp/state").Matcher(healthy),
		wait.ForLogRegexp(regexp.MustCompile(`^state=\d+$`)),
		wait.ForLog("state=").Times(2),
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	done := make([]chan error, len(strategies))
	for i, s := range strategies {
		done[i] = make(chan error, 1)
		go func() { done[i] <- s.Ready(ctx, c.Container) }()
	}
	// Long enough for every strategy to probe a few times.
	time.Sleep(1500 * time.Millisecond)
	for i, s := range strategies {
		select {
		case err := <-done[i]:
			t.Errorf("%s ended before the container was ready: %v", s, err)
		default:
		}
	}
	_, err := c.Exec(ctx, []string{"touch", "/tmp/go"})
	require.NoError(t, err)
	for i, s := range strategies {
		select {
		case err := <-done[i]:
			assert.NoError(t, err, "%s", s)
		case <-time.After(30 * time.Second):
			t.Errorf("%s did not see the container ready", s)
		}
	}
	res, err := c.Exec(ctx, []string{"wget", "-q", "-O", "-", "http://127.0.0.1:8080/health"})
	require.NoError(t, err)
	assert.Equal(t, "healthy", string(res.Stdout))
}

// ForHTTP's Method, Header and Body reach the server: a CGI script answers
// 200 only to all three, and the wait without one of them times out
// showing what the server got.
func TestForHTTPRequestOptions(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	probe := `#!/bin/sh
body=$(head -c "${CONTENT_LENGTH:-0}")
if [ "$REQUEST_METHOD" = POST ] && [ "$HTTP_X_TOKEN" = abc ] && [ "$body" = ping ]; then
  printf 'HTTP/1.0 200 OK\r\n\r\npong'
else
  printf 'HTTP/1.0 403 Forbidden\r\n\r\ngot %s token=%s body=%s' "$REQUEST_METHOD" "$HTTP_X_TOKEN" "$body"
fi
`
	c := h.Container(busybox).
		FileContent("/www/cgi-bin/probe", []byte(probe), 0o755).
		Cmd("httpd", "-f", "-p", "8080", "-h", "/www").
		Port("8080/tcp").
		WaitFor(wait.ForListeningPort("8080/tcp")).
		Start()
	full := func() *wait.HTTPStrategy {
		return wait.ForHTTP("/cgi-bin/probe").Port("8080/tcp")
	}
	require.NoError(t, full().Method("POST").Header("X-Token", "abc").Body([]byte("ping")).
		BodyMatcher(func(b []byte) bool { return string(b) == "pong" }).Ready(t.Context(), c.Container))
	for _, tt := range []struct {
		name string
		s    *wait.HTTPStrategy
		seen string
	}{
		// busybox httpd hands a CGI script the body of a POST only.
		{"no method", full().Header("X-Token", "abc").Body([]byte("ping")), `got GET token=abc body=`},
		{"another method", full().Method("PUT").Header("X-Token", "abc").Body([]byte("ping")), `got PUT token=abc body=`},
		{"no header", full().Method("POST").Body([]byte("ping")), `got POST token= body=ping`},
		{"another header", full().Method("POST").Header("X-Token", "abd").Body([]byte("ping")), `got POST token=abd body=ping`},
		{"no body", full().Method("POST").Header("X-Token", "abc"), `got POST token=abc body=`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			err := tt.s.Ready(ctx, c.Container)
			var te *wait.TimeoutError
			require.ErrorAs(t, err, &te)
			assert.Contains(t, te.LastSeen, "status 403")
			assert.Contains(t, te.LastSeen, tt.seen)
		})
	}
}

// TLS() speaks https and checks the certificate: a self-signed one is
// refused; Insecure() accepts it; plain http does not reach the server.
func TestForHTTPTLS(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	c := h.Container("berth-fixtures/bookworm-base:1").
		Cmd("sh", "-c", `cd /tmp && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout k.pem -out c.pem -days 1 2>/dev/null &&
exec openssl s_server -quiet -accept 8443 -cert c.pem -key k.pem -www`).
		Port("8443/tcp").
		WaitFor(wait.ForListeningPort("8443/tcp")).
		Start()
	require.NoError(t, wait.ForHTTP("/").Port("8443/tcp").Insecure().Ready(t.Context(), c.Container))

	for _, tt := range []struct {
		name string
		s    *wait.HTTPStrategy
		want string
	}{
		{"verified", wait.ForHTTP("/").Port("8443/tcp").TLS(), "x509:"},
		{"plain http", wait.ForHTTP("/").Port("8443/tcp"), "http://"},
	} {
		// openssl s_server takes one connection at a time: room for a
		// few handshakes on a busy machine.
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err := tt.s.Ready(ctx, c.Container)
		cancel()
		var te *wait.TimeoutError
		require.ErrorAs(t, err, &te, tt.name)
		assert.Contains(t, te.LastSeen, tt.want, tt.name)
		if tt.name == "plain http" {
			assert.NotContains(t, te.LastSeen, "x509", "plain http spoke TLS")
		}
	}
	assert.Equal(t, "https GET :8443/tcp/ status 200", wait.ForHTTP("/").Port("8443/tcp").TLS().String())
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

// ForSQL alone decides when postgres is ready: right after it, a query
// works. With a wrong password it fails at once, not at its timeout.
func TestForSQLOnPostgres(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	dsn := func(password string) func(host string, port int) string {
		return func(host string, port int) string {
			return fmt.Sprintf("postgres://postgres:%s@%s:%d/postgres?sslmode=disable", password, host, port)
		}
	}
	c := h.Container("postgres:15-bookworm").
		Env("POSTGRES_PASSWORD", "s3cr3t-pg").
		Port("5432/tcp").
		WaitFor(wait.ForSQL("5432/tcp", "pgx", dsn("s3cr3t-pg"))).
		Start()
	db, err := sql.Open("pgx", fmt.Sprintf("postgres://postgres:s3cr3t-pg@%s/postgres?sslmode=disable", c.HostPort(t.Context(), "5432/tcp")))
	require.NoError(t, err)
	defer db.Close()
	var one int
	require.NoError(t, db.QueryRowContext(t.Context(), "SELECT 1").Scan(&one))
	assert.Equal(t, 1, one)

	start := time.Now()
	err = wait.ForSQL("5432/tcp", "pgx", dsn("wrong-pw")).Ready(t.Context(), c.Container)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 10*time.Second, "a refused password is final")
	assert.Contains(t, err.Error(), "SQLSTATE 28P01")
	assert.NotContains(t, err.Error(), "wrong-pw")
	assert.NotContains(t, err.Error(), "s3cr3t-pg")
}

// A 40 MiB log line without a newline from a running container: ForLog
// finds the text inside it, and the heap holds a bounded part of the line.
// Not parallel: the heap is measured.
func TestForLogOnALongLineFromTheEngine(t *testing.T) {
	h := berth.New(t)
	c := h.Container(busybox).
		Cmd("sh", "-c", `head -c 41943040 /dev/zero | tr '\0' x; echo -n ready; head -c 2097152 /dev/zero | tr '\0' y; exec sleep 3600`).
		Start()
	stop := wait.PeakHeap(t)
	err := wait.ForLog("ready").Ready(t.Context(), c.Container)
	peak := stop()
	require.NoError(t, err)
	t.Logf("peak heap above the start: %.1f MiB for a 42 MiB line", float64(peak)/(1<<20))
	assert.Less(t, peak, uint64(24<<20), "peak heap above the start")
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

// Ready of a strategy that cannot work returns its validation error at
// once, worded once, even when nobody validated it before.
func TestReadyRefusesAnInvalidStrategyAtOnce(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	c := h.Container(busybox).Cmd("sleep", "3600").Start()
	for _, s := range []wait.Strategy{
		wait.ForHTTP("/healthz"),
		wait.All(wait.ForLog("never"), wait.ForHTTP("/healthz")),
		wait.ForListeningPort("x"),
		wait.ForSQL("5432/tcp", "pgx", nil),
		wait.ForExec(),
		wait.ForFile(""),
		wait.ForLog("").Times(0),
		wait.ForLog("ready").Times(0),
	} {
		start := time.Now()
		err := s.Ready(t.Context(), c.Container)
		require.Error(t, err, s.String())
		assert.Less(t, time.Since(start), time.Second, "%s waited", s)
		assert.ErrorIs(t, err, wait.ErrInvalidStrategy)
		// The strategy is named once: the call that made it, not its
		// String() as well.
		assert.NotContains(t, err.Error(), s.String()+":")
		for _, word := range []string{"no container port", "no DSN", "no command", "no path", "want a port number", "no text to wait for", "want 1 or more"} {
			assert.LessOrEqual(t, strings.Count(err.Error(), word), 1, err.Error())
		}
	}
	// The builder refuses it before it creates anything.
	start := time.Now()
	_, err := h.Container(busybox).Cmd("sleep", "3600").WaitFor(wait.ForLog("").Times(0)).StartE(t.Context())
	assert.ErrorIs(t, err, wait.ErrInvalidStrategy)
	assert.Less(t, time.Since(start), time.Second)
}
