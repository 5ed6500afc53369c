package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ory/dockertest/v3"
	dc "github.com/ory/dockertest/v3/docker"
	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
	tcwait "github.com/testcontainers/testcontainers-go/wait"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/modules/postgres"
	"github.com/berth-go/berth/wait"
)

const (
	busybox  = "busybox:1.36"
	pgImage  = "postgres:15-bookworm"
	pgPass   = "bench-pw"
	stubborn = "trap '' TERM; while true; do sleep 1; done"
)

// env holds one client of each kind.
type env struct {
	s        *berth.Session
	raw      *rawClient
	pool     *dockertest.Pool
	cleanups []func() // run by sweep
}

func newEnv(s *berth.Session) *env {
	pool, err := dockertest.NewPool("")
	if err != nil {
		panic(err)
	}
	return &env{s: s, raw: newRaw(), pool: pool}
}

func (e *env) engineVersion(ctx context.Context) string {
	v, err := e.s.Engine().Server(ctx)
	if err != nil {
		return "?"
	}
	return v.Version + " (API " + v.APIVersion + ")"
}

// sweep removes everything the run labelled.
func (e *env) sweep() {
	for _, f := range e.cleanups {
		f()
	}
	var ids []struct{ Id string }
	e.raw.call("GET", `/containers/json?all=1&filters={"label":["bench.run=`+sessionLabel+`"]}`, nil, &ids)
	for _, c := range ids {
		e.raw.call("DELETE", "/containers/"+c.Id+"?force=1&v=1", nil, nil)
	}
	if tcCompose.bin != "" {
		os.RemoveAll(filepath.Dir(tcCompose.bin))
	}
}

// labels returns a fresh label map: testcontainers-go writes into it.
func labels() map[string]string { return map[string]string{"bench.run": sessionLabel} }

// rawClient makes Engine API calls with plain net/http: the baseline.
type rawClient struct{ hc *http.Client }

func newRaw() *rawClient {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", "/var/run/docker.sock")
	}, MaxIdleConnsPerHost: 64}
	return &rawClient{hc: &http.Client{Transport: tr}}
}

func (r *rawClient) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(ctx, method, "http://docker/v1.41"+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp, nil
}

func (r *rawClient) call(method, path string, body, out any) error {
	resp, err := r.do(context.Background(), method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	io.Copy(io.Discard, resp.Body)
	return nil
}

// start creates and starts a container and inspects it: what every
// library must do at least.
func (r *rawClient) start(cfg map[string]any) (string, error) {
	cfg["Labels"] = labels()
	var created struct{ Id string }
	if err := r.call("POST", "/containers/create", cfg, &created); err != nil {
		return "", err
	}
	if err := r.call("POST", "/containers/"+created.Id+"/start", nil, nil); err != nil {
		return created.Id, err
	}
	return created.Id, r.call("GET", "/containers/"+created.Id+"/json", nil, &map[string]any{})
}

func (r *rawClient) remove(id string) func() {
	return func() { r.call("DELETE", "/containers/"+id+"?force=1&v=1", nil, nil) }
}

func timed(f func() (func(), error)) (time.Duration, func(), error) {
	start := time.Now()
	cleanup, err := f()
	return time.Since(start), cleanup, err
}

func scenarios(e *env) []scenario {
	return append([]scenario{
		startScenario(e),
		removeScenario(e),
		logWaitScenario(e),
		logDetectScenario(e),
		postgresScenario(e),
		parallelScenario(e),
		composeScenario(e),
	}, buildScenarios(e)...)
}

// busyboxRun is one library's way to run busybox with cmd: started when
// the library's start returns, after its own wait for the log line
// waitLog when that is not "".
type busyboxRun func(ctx context.Context, cmd []string, waitLog string) (started, error)

// started is a container a library started: its ID and that library's
// removal of it. remove is nil when nothing was made.
type started struct {
	id     string
	remove func() error
}

// cleanup is remove for a contender's unmeasured cleanup, which ignores
// errors (sweep removes what is left); nil when nothing was made.
func (s started) cleanup() func() {
	if s.remove == nil {
		return nil
	}
	return func() { s.remove() }
}

// busyboxContenders makes the four contenders of a busybox scenario:
// measure gets each library's busyboxRun.
func (e *env) busyboxContenders(measure func(run busyboxRun) measurement) []contender {
	return []contender{
		{"raw", measure(e.rawBusybox)},
		{"berth", measure(e.berthBusybox)},
		{"testcontainers-go", measure(e.tcBusybox)},
		{"dockertest", measure(e.dockertestBusybox)},
	}
}

// rawBusybox waits for a log line by following the log stream.
func (e *env) rawBusybox(ctx context.Context, cmd []string, waitLog string) (started, error) {
	id, err := e.raw.start(map[string]any{"Image": busybox, "Cmd": cmd})
	c := started{id: id, remove: func() error { return e.raw.call("DELETE", "/containers/"+id+"?force=1&v=1", nil, nil) }}
	if err != nil || waitLog == "" {
		return c, err
	}
	resp, err := e.raw.do(ctx, "GET", "/containers/"+id+"/logs?follow=1&stdout=1&stderr=1", nil)
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	return c, scanFrames(resp.Body, waitLog)
}

func (e *env) berthBusybox(ctx context.Context, cmd []string, waitLog string) (started, error) {
	b := e.s.Container(busybox).Cmd(cmd...)
	if waitLog != "" {
		b.WaitFor(wait.ForLog(waitLog))
	}
	c, err := b.StartE(ctx)
	if err != nil {
		return started{}, err
	}
	return started{id: c.ID(), remove: func() error { return c.Remove(context.Background()) }}, nil
}

func (e *env) tcBusybox(ctx context.Context, cmd []string, waitLog string) (started, error) {
	req := testcontainers.ContainerRequest{Image: busybox, Cmd: cmd, Labels: labels()}
	if waitLog != "" {
		req.WaitingFor = tcwait.ForLog(waitLog)
	}
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true})
	if err != nil {
		return started{}, err
	}
	return started{id: c.GetContainerID(), remove: func() error { return c.Terminate(context.Background()) }}, nil
}

// dockertestBusybox waits for a log line with dockertestLogWait.
func (e *env) dockertestBusybox(ctx context.Context, cmd []string, waitLog string) (started, error) {
	res, err := e.pool.RunWithOptions(&dockertest.RunOptions{Repository: "busybox", Tag: "1.36", Cmd: cmd, Labels: labels()})
	if err != nil {
		return started{}, err
	}
	c := started{id: res.Container.ID, remove: func() error { return e.pool.Purge(res) }}
	if waitLog != "" {
		err = e.dockertestLogWait(c.id, waitLog)
	}
	return c, err
}

func startScenario(e *env) scenario {
	cmd := []string{"sleep", "600"}
	return scenario{name: "busybox start-to-running, no wait", goal: "≤ 1.05×", contenders: e.busyboxContenders(startToReady(cmd, ""))}
}

// startToReady measures a start of busybox running cmd until the library
// returns it, after its wait for the log line waitLog when that is not "".
func startToReady(cmd []string, waitLog string) func(run busyboxRun) measurement {
	return func(run busyboxRun) measurement {
		return func(ctx context.Context) (time.Duration, func(), error) {
			return timed(func() (func(), error) {
				c, err := run(ctx, cmd, waitLog)
				return c.cleanup(), err
			})
		}
	}
}

func removeScenario(e *env) scenario {
	cmd := []string{"sh", "-c", stubborn}
	return scenario{name: "remove a running container (PID 1 ignores SIGTERM)", goal: "≤ 1.10×", contenders: e.busyboxContenders(
		func(run busyboxRun) measurement {
			return func(ctx context.Context) (time.Duration, func(), error) {
				c, err := run(ctx, cmd, "")
				if err != nil {
					return 0, c.cleanup(), err
				}
				start := time.Now()
				err = c.remove()
				return time.Since(start), nil, err
			}
		})}
}

// logWaitScenario: the container prints "ready" 1 s after it starts; each
// contender's time runs from before its start to its wait being satisfied.
func logWaitScenario(e *env) scenario {
	cmd := []string{"sh", "-c", "echo booting; sleep 1; echo ready; exec sleep 600"}
	return scenario{name: "log-line wait (line after 1 s)", goal: "≤ +10 ms", delta: true, contenders: e.busyboxContenders(startToReady(cmd, "ready"))}
}

// logDetectScenario: the time from the engine's own timestamp of the
// "ready" line to each contender's wait returning. The log-line wait above
// runs from before the start, so the engine's create and start (hundreds
// of ms, and noisy on a shared machine) are in it; this is the cost of
// seeing the line alone. PID 1 exits on SIGTERM, so no library's stop
// waits out a grace period.
func logDetectScenario(e *env) scenario {
	cmd := []string{"sh", "-c", "trap 'exit 0' TERM; echo booting; sleep 0.5; echo ready; sleep 600 & wait"}
	return scenario{name: "log-line detection (engine's log timestamp to wait returned)", goal: "≤ +10 ms", delta: true, contenders: e.busyboxContenders(
		func(run busyboxRun) measurement {
			return func(ctx context.Context) (time.Duration, func(), error) {
				c, err := run(ctx, cmd, "ready")
				if err != nil {
					return 0, c.cleanup(), err
				}
				d, err := e.raw.sinceLogged(c.id, "ready", time.Now())
				return d, c.cleanup(), err
			}
		})}
}

// sinceLogged is the time from the engine's timestamp of the first log
// line equal to line until done.
func (r *rawClient) sinceLogged(id, line string, done time.Time) (time.Duration, error) {
	resp, err := r.do(context.Background(), "GET", "/containers/"+id+"/logs?stdout=1&stderr=1&timestamps=1", nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	hdr := make([]byte, 8)
	for {
		if _, err := io.ReadFull(br, hdr); err != nil {
			return 0, fmt.Errorf("no %q line in the log of %.12s: %w", line, id, err)
		}
		buf := make([]byte, binary.BigEndian.Uint32(hdr[4:]))
		if _, err := io.ReadFull(br, buf); err != nil {
			return 0, err
		}
		ts, text, _ := strings.Cut(strings.TrimRight(string(buf), "\n"), " ")
		if text != line {
			continue
		}
		logged, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return 0, err
		}
		return done.Sub(logged), nil
	}
}

// scanFrames reads a multiplexed log stream until a line contains want.
func scanFrames(r io.Reader, want string) error {
	br := bufio.NewReader(r)
	hdr := make([]byte, 8)
	for {
		if _, err := io.ReadFull(br, hdr); err != nil {
			return err
		}
		buf := make([]byte, binary.BigEndian.Uint32(hdr[4:]))
		if _, err := io.ReadFull(br, buf); err != nil {
			return err
		}
		if strings.Contains(string(buf), want) {
			return nil
		}
	}
}

func pgxReady(ctx context.Context, dsn string) error {
	for {
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			err = conn.QueryRow(ctx, "SELECT 1").Scan(new(int))
			conn.Close(ctx)
			if err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func postgresScenario(e *env) scenario {
	env := []string{"POSTGRES_PASSWORD=" + pgPass}
	return scenario{name: "postgres ready + SELECT 1 (pgx)", goal: "cold ≤ 1.02×, warm ≤ 0.35× tc-go", contenders: []contender{
		{"raw", func(ctx context.Context) (time.Duration, func(), error) {
			return timed(func() (func(), error) {
				id, err := e.raw.start(map[string]any{"Image": pgImage, "Env": env, "ExposedPorts": map[string]any{"5432/tcp": struct{}{}},
					"HostConfig": map[string]any{"PortBindings": map[string]any{"5432/tcp": []map[string]string{{"HostIp": "127.0.0.1"}}}}})
				if err != nil {
					return e.raw.remove(id), err
				}
				var info struct {
					NetworkSettings struct {
						Ports map[string][]struct{ HostPort string }
					}
				}
				if err := e.raw.call("GET", "/containers/"+id+"/json", nil, &info); err != nil {
					return e.raw.remove(id), err
				}
				port := info.NetworkSettings.Ports["5432/tcp"][0].HostPort
				return e.raw.remove(id), pgxReady(ctx, "postgres://postgres:"+pgPass+"@127.0.0.1:"+port+"/postgres?sslmode=disable")
			})
		}},
		{"berth cold", func(ctx context.Context) (time.Duration, func(), error) {
			return timed(func() (func(), error) {
				c, err := postgres.New(e.s).Cold().Password(pgPass).StartE(ctx)
				if err != nil {
					return nil, err
				}
				return func() { c.Remove(context.Background()) }, pgxReady(ctx, c.DSN())
			})
		}},
		{"berth warm", func(ctx context.Context) (time.Duration, func(), error) {
			return timed(func() (func(), error) {
				c, err := postgres.New(e.s).Password(pgPass).StartE(ctx)
				if err != nil {
					return nil, err
				}
				return func() { c.Remove(context.Background()) }, pgxReady(ctx, c.DSN())
			})
		}},
		{"testcontainers-go", func(ctx context.Context) (time.Duration, func(), error) {
			return timed(func() (func(), error) {
				c, err := tcpostgres.Run(ctx, pgImage, tcpostgres.WithPassword(pgPass), tcpostgres.BasicWaitStrategies(),
					testcontainers.WithLabels(labels()))
				if err != nil {
					return nil, err
				}
				dsn, err := c.ConnectionString(ctx, "sslmode=disable")
				if err == nil {
					err = pgxReady(ctx, dsn)
				}
				return func() { c.Terminate(context.Background()) }, err
			})
		}},
		{"dockertest", func(ctx context.Context) (time.Duration, func(), error) {
			return timed(func() (func(), error) {
				res, err := e.pool.RunWithOptions(&dockertest.RunOptions{Repository: "postgres", Tag: "15-bookworm", Env: env, Labels: labels()})
				if err != nil {
					return nil, err
				}
				dsn := "postgres://postgres:" + pgPass + "@localhost:" + res.GetPort("5432/tcp") + "/postgres?sslmode=disable"
				err = e.pool.Retry(func() error {
					conn, err := pgx.Connect(ctx, dsn)
					if err != nil {
						return err
					}
					defer conn.Close(ctx)
					return conn.QueryRow(ctx, "SELECT 1").Scan(new(int))
				})
				return func() { e.pool.Purge(res) }, err
			})
		}},
	}}
}

func parallelScenario(e *env) scenario {
	cmd := []string{"sleep", "600"}
	return scenario{name: "20 busybox in parallel", goal: "≤ 1.05×", contenders: e.busyboxContenders(
		func(run busyboxRun) measurement {
			return func(ctx context.Context) (time.Duration, func(), error) {
				return timed(func() (func(), error) {
					var wg sync.WaitGroup
					var mu sync.Mutex
					var cleanups []func()
					var first error
					for range 20 {
						wg.Add(1)
						go func() {
							defer wg.Done()
							c, err := run(ctx, cmd, "")
							mu.Lock()
							defer mu.Unlock()
							if cleanup := c.cleanup(); cleanup != nil {
								cleanups = append(cleanups, cleanup)
							}
							if err != nil && first == nil {
								first = err
							}
						}()
					}
					wg.Wait()
					return func() {
						var cw sync.WaitGroup
						for _, c := range cleanups {
							cw.Add(1)
							go func() { defer cw.Done(); c() }()
						}
						cw.Wait()
					}, first
				})
			}
		})}
}

// dockertestLogWait is dockertest's documented way to wait for a log line:
// pool.Retry around a full log read.
func (e *env) dockertestLogWait(id, want string) error {
	return e.pool.Retry(func() error {
		var out bytes.Buffer
		if err := e.pool.Client.Logs(dc.LogsOptions{Container: id, OutputStream: &out, ErrorStream: &out, Stdout: true, Stderr: true}); err != nil {
			return err
		}
		if !strings.Contains(out.String(), want) {
			return fmt.Errorf("not yet")
		}
		return nil
	})
}
