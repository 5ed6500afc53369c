package compose_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/build"
	"github.com/berth-go/berth/compose"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/wait"
)

func TestMain(m *testing.M) { berth.Main(m) }

// TestStack runs postgres, redis, a one-shot migration and a web service
// built from a Dockerfile that talks to both, and checks each part of the
// file took effect.
func TestStack(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	start := time.Now()
	st := compose.Up(h, "testdata/app/docker-compose.yml",
		compose.WaitFor("web", wait.ForHTTP("/cgi-bin/status").Port("8080/tcp")))
	t.Logf("%s up in %v", st, time.Since(start))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.Equal(t, st.String(), fmt.Sprintf(verb, st), "the stack prints its name and services only, never its environment, with "+verb)
	}
	assert.Equal(t, []string{"cache", "db", "migrate", "web"}, st.Services())

	// The migration ran to completion before web started.
	mig, err := st.Service("migrate").State(ctx)
	require.NoError(t, err)
	assert.Equal(t, "exited", mig.Status)
	assert.Equal(t, 0, mig.ExitCode)

	// Published ports are random host ports, even the file's fixed 16379.
	cacheAddr := st.Service("cache").HostPort(ctx, "6379/tcp")
	assert.NotContains(t, cacheAddr, ":16379")
	rdb := goredis.NewClient(&goredis.Options{Addr: cacheAddr})
	defer rdb.Close()
	require.NoError(t, rdb.Set(ctx, "greeting", "set-by-the-test", 0).Err())

	conn, err := pgx.Connect(ctx, "postgres://shop:shop-secret@"+st.Service("db").HostPort(ctx, "5432/tcp")+"/shop?sslmode=disable")
	require.NoError(t, err)
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM products").Scan(&n))
	assert.Equal(t, 2, n, "the migration's rows")

	web := st.Service("web")
	resp, err := http.Get(web.Endpoint(ctx, "8080/tcp") + "/cgi-bin/status")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	status := string(body)
	assert.Contains(t, status, "prefix: built", "build args reach the build")
	assert.Contains(t, status, "greeting: hello from web.env", "env_file")
	assert.Contains(t, status, "redis: set-by-the-test", "web reads the test's key through the alias redis")
	assert.Contains(t, status, "postgres: unsupported frontend protocol", "web reaches postgres by service name")

	r, err := web.Exec(ctx, []string{"grep", " /scratch ", "/proc/mounts"})
	require.NoError(t, err)
	assert.Contains(t, string(r.Stdout), "tmpfs", "tmpfs")

	// Labels: berth's (cleanup, watchdog) and compose's (docker compose -p NAME ps).
	d, err := web.Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, h.Session().ID(), d.Labels[engine.LabelSession])
	assert.Equal(t, st.Name(), d.Labels[compose.LabelProject])
	assert.Equal(t, "web", d.Labels[compose.LabelService])
	assert.Equal(t, "False", d.Labels[compose.LabelOneOff])
	assert.Equal(t, st.Name()+"-web-1", d.Name)
	front, ok := st.Network("front")
	require.True(t, ok)
	assert.Contains(t, d.Networks[front.Name()].Aliases, "shop-web", "network aliases")
	info, err := front.Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, st.Name(), info.Labels[compose.LabelProject])
	assert.Equal(t, h.Session().ID(), info.Labels[engine.LabelSession])
}

// TestOverrides changes a service from the test: its image, an env
// variable, a wait of the test's own and a builder call.
func TestOverrides(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	st := compose.Up(h, "testdata/volume/docker-compose.yml",
		compose.Env("reader", "MODE", "override"),
		compose.Image("reader", "redis:7-bookworm"), // it has sh, cat and sleep too
		compose.WaitFor("reader", wait.ForExec("test", "-f", "/shared/message")),
		compose.Customize("reader", func(b *berth.ContainerBuilder) { b.Label("team", "payments") }))
	r, err := st.Service("reader").Exec(ctx, []string{"sh", "-c", "echo $MODE"})
	require.NoError(t, err)
	assert.Equal(t, "override\n", string(r.Stdout))
	d, err := st.Service("reader").Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, "payments", d.Labels["team"])
	assert.Equal(t, "redis:7-bookworm", d.Image)
}

// TestVolumeAndProfile shares a named volume between a one-shot writer and
// a reader, and starts the profiled service only when asked.
func TestVolumeAndProfile(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	st := compose.Up(h, "testdata/volume/docker-compose.yml")
	r, err := st.Service("reader").Exec(ctx, []string{"cat", "/tmp/found-at-start"})
	require.NoError(t, err)
	assert.Equal(t, "written-by-writer\n", string(r.Stdout), "reader started after writer completed, on the same volume")
	d, err := st.Service("reader").Inspect(ctx)
	require.NoError(t, err)
	assert.Contains(t, strings.Join(d.Mounts, " "), "_reader_anon_scratch-", "an anonymous volume")
	r, err = st.Service("reader").Exec(ctx, []string{"touch", "/shared/x"})
	require.NoError(t, err)
	assert.Contains(t, string(r.Stderr), "Read-only file system", "read_only: true")
	assert.Contains(t, strings.Join(d.Mounts, " "), "→/scratch")
	_, err = st.ServiceE("debug")
	require.ErrorIs(t, err, compose.ErrUnknownService)
	assert.Contains(t, err.Error(), "profiles [debug]")

	dbg := compose.Up(h, "testdata/volume/docker-compose.yml", compose.Profiles("debug"))
	assert.Equal(t, []string{"debug", "reader", "writer"}, dbg.Services())
	r, err = dbg.Service("debug").Exec(ctx, []string{"cat", "/data/message"})
	require.NoError(t, err)
	assert.Equal(t, "written-by-writer\n", string(r.Stdout), "each stack has its own volume, shared by its services")

	only := compose.Up(h, "testdata/volume/docker-compose.yml", compose.Only("writer"))
	assert.Equal(t, []string{"writer"}, only.Services())
}

// TestDependsOnChain: a service_healthy chain starts in order, each after
// the one before turned healthy, while an independent service starts at
// once beside the first.
func TestDependsOnChain(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	st := compose.Up(h, "testdata/chain/docker-compose.yml")
	found := map[string]string{}
	for _, name := range st.Services() {
		c := st.Service(name)
		r, err := c.Exec(ctx, []string{"cat", "/tmp/found-at-start"})
		require.NoError(t, err)
		found[name] = strings.Join(strings.Fields(string(r.Stdout)), " ")
		s, err := c.State(ctx)
		require.NoError(t, err)
		assert.Equal(t, "healthy", s.Health, name)
	}
	t.Logf("found at start: %v", found)
	assert.Contains(t, found["second"], "first", "second started after first was healthy")
	assert.Contains(t, found["third"], "second", "third started after second was healthy")
	// Serially, loner would start after the others turned healthy; in
	// parallel it starts beside first (a loaded engine may start it a
	// second late, so only second's mark counts).
	assert.NotContains(t, found["loner"], "second", "independent services start in parallel")
}

// TestFixedPorts publishes on the file's host port only when asked; by
// default the same file gets a random one.
func TestFixedPorts(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	st := compose.Up(h, "testdata/ports/docker-compose.yml", compose.Var("WEB_PORT", strconv.Itoa(port)), compose.FixedPorts(),
		compose.WaitFor("web", wait.ForHTTP("/index.html").Port("8080/tcp")))
	got, err := st.Service("web").MappedPort(ctx, "8080/tcp")
	require.NoError(t, err)
	assert.Equal(t, port, got, "FixedPorts keeps the file's host port")

	random := compose.Up(h, "testdata/ports/docker-compose.yml", compose.Var("WEB_PORT", strconv.Itoa(port)),
		compose.WaitFor("web", wait.ForHTTP("/index.html").Port("8080/tcp")))
	got, err = random.Service("web").MappedPort(ctx, "8080/tcp")
	require.NoError(t, err)
	assert.NotEqual(t, port, got, "without FixedPorts the host port is random")
}

// newSession is a session of the test's own, as TestMain would make one,
// so the test can ask what Up left behind; it is closed when the test ends.
func newSession(t *testing.T) *berth.Session {
	t.Helper()
	s, err := berth.NewSession(t.Context(), berth.WithoutWatchdog())
	require.NoError(t, err)
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// assertNothingLeft checks that s holds no resources on the engine.
func assertNothingLeft(t *testing.T, s *berth.Session, msgAndArgs ...any) {
	t.Helper()
	left, err := s.Leftovers(t.Context())
	require.NoError(t, err)
	assert.Empty(t, left, msgAndArgs...)
}

// TestBadInput: each bad file or option is a typed error, and nothing is
// left on the engine.
func TestBadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newSession(t)
	for _, tc := range []struct {
		name, file string
		opts       []compose.Option
		want       error
		says       string
	}{
		{"missing file", "testdata/bad/nope.yml", nil, compose.ErrFileNotFound, "nope.yml"},
		{"directory", "testdata/bad", nil, compose.ErrFileNotFound, "directory"},
		{"invalid YAML", "testdata/bad/invalid.yml", nil, compose.ErrInvalidFile, "invalid.yml"},
		{"unknown dependency", "testdata/bad/unknown-dependency.yml", nil, compose.ErrUnknownService, `"database"`},
		{"unknown service in an option", "testdata/volume/docker-compose.yml", []compose.Option{compose.Env("writre", "A", "b")}, compose.ErrUnknownService, "reader, writer"},
		{"cycle", "testdata/bad/cycle.yml", nil, compose.ErrDependencyCycle, "a -> c -> b -> a"},
		{"unsupported", "testdata/bad/unsupported.yml", nil, compose.ErrUnsupported, "network_mode"},
		{"image not there", "testdata/bad/missing-image.yml", nil, container.ErrImageMissing, `service "ghost"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			st, err := compose.UpE(ctx, s, tc.file, tc.opts...)
			require.Error(t, err)
			require.Nil(t, st)
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.says)
			t.Logf("%v after %v", err, time.Since(start).Round(time.Millisecond))
			assertNothingLeft(t, s, "a failed Up removes what it made")
		})
	}
}

// TestCrashFailsFast: a service that dies while its healthcheck is awaited
// fails Up at once, naming the service, its exit code and its last log
// lines; the service depending on it never starts.
func TestCrashFailsFast(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newSession(t)
	start := time.Now()
	_, err := compose.UpE(ctx, s, "testdata/bad/crash.yml")
	took := time.Since(start)
	var se *compose.ServiceError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "broken", se.Service)
	assert.Equal(t, 3, se.ExitCode)
	assert.Contains(t, strings.Join(se.LogTail, "\n"), "fatal: /etc/app.conf: no such file")
	assert.Contains(t, err.Error(), `compose service "broken"`)
	assert.Less(t, took, 15*time.Second, "fails fast, not at the wait's timeout")
	assert.False(t, errors.Is(err, compose.ErrDependencyFailed), "the cause is reported, not the dependent: %v", err)
	assertNothingLeft(t, s)
}

// TestBuildFails: a service whose build fails is a *ServiceError at the
// build step carrying the build's own error (the failed step and its log),
// and the stack is removed.
func TestBuildFails(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newSession(t)
	_, err := compose.UpE(ctx, s, "testdata/bad/build-fails.yml")
	var se *compose.ServiceError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "app", se.Service)
	assert.Equal(t, "build", se.Step)
	var be *build.Error
	require.ErrorAs(t, err, &be)
	assert.Contains(t, err.Error(), "error: missing dependency")
	assertNothingLeft(t, s)
}

// TestSessionDown runs a stack in a Session, as TestMain would, and
// removes it with Down.
func TestSessionDown(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newSession(t)
	st, err := compose.UpE(ctx, s, "testdata/volume/docker-compose.yml")
	require.NoError(t, err)
	left, err := s.Leftovers(ctx)
	require.NoError(t, err)
	assert.Len(t, left, 5, "two containers, a network, a named and an anonymous volume: %v", left)
	require.NoError(t, st.Down(ctx))
	assertNothingLeft(t, s)
}
