package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The one-postgres test each contender's user would write; compiled with
// `go test -c` in its own module against an empty build cache, then run
// for its peak RSS (rssProbe, a second test file, reports it).
var programs = map[string]string{
	"raw": `package x
import ("context"; "encoding/json"; "net"; "net/http"; "bytes"; "testing"; "time"; "github.com/jackc/pgx/v5")
func TestPG(t *testing.T) {
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return (&net.Dialer{}).DialContext(ctx, "unix", "/var/run/docker.sock") }}}
	call := func(m, p string, in, out any) { b, _ := json.Marshal(in); req, _ := http.NewRequest(m, "http://d/v1.41"+p, bytes.NewReader(b)); req.Header.Set("Content-Type", "application/json"); r, err := hc.Do(req); if err != nil { t.Fatal(err) }; defer r.Body.Close(); if out != nil { json.NewDecoder(r.Body).Decode(out) } }
	var c struct{ Id string }
	call("POST", "/containers/create", map[string]any{"Image": "postgres:15-bookworm", "Env": []string{"POSTGRES_PASSWORD=pw"}, "Labels": map[string]string{"bench.run": "LABEL"}, "HostConfig": map[string]any{"PortBindings": map[string]any{"5432/tcp": []map[string]string{{"HostIp": "127.0.0.1"}}}}}, &c)
	defer call("DELETE", "/containers/"+c.Id+"?force=1", nil, nil)
	call("POST", "/containers/"+c.Id+"/start", nil, nil)
	var info struct{ NetworkSettings struct{ Ports map[string][]struct{ HostPort string } } }
	call("GET", "/containers/"+c.Id+"/json", nil, &info)
	dsn := "postgres://postgres:pw@127.0.0.1:" + info.NetworkSettings.Ports["5432/tcp"][0].HostPort + "/postgres"
	for i := 0; ; i++ { conn, err := pgx.Connect(context.Background(), dsn); if err == nil { conn.Close(context.Background()); return }; if i > 600 { t.Fatal(err) }; time.Sleep(20 * time.Millisecond) }
}
`,
	"berth": `package x
import ("context"; "testing"; "github.com/jackc/pgx/v5"; "github.com/berth-go/berth"; "github.com/berth-go/berth/modules/postgres")
func TestPG(t *testing.T) {
	pg := postgres.New(berth.New(t)).Cold().Label("bench.run", "LABEL").Start()
	conn, err := pgx.Connect(context.Background(), pg.DSN()); if err != nil { t.Fatal(err) }; conn.Close(context.Background())
}
`,
	"testcontainers-go": `package x
import ("context"; "testing"; "github.com/jackc/pgx/v5"; "github.com/testcontainers/testcontainers-go"; tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres")
func TestPG(t *testing.T) {
	ctx := context.Background()
	c, err := tcpostgres.Run(ctx, "postgres:15-bookworm", tcpostgres.WithPassword("pw"), tcpostgres.BasicWaitStrategies(), testcontainers.WithLabels(map[string]string{"bench.run": "LABEL"}))
	if err != nil { t.Fatal(err) }
	defer c.Terminate(ctx)
	dsn, _ := c.ConnectionString(ctx, "sslmode=disable")
	conn, err := pgx.Connect(ctx, dsn); if err != nil { t.Fatal(err) }; conn.Close(ctx)
}
`,
	"dockertest": `package x
import ("context"; "testing"; "github.com/jackc/pgx/v5"; "github.com/ory/dockertest/v3")
func TestPG(t *testing.T) {
	pool, err := dockertest.NewPool(""); if err != nil { t.Fatal(err) }
	res, err := pool.RunWithOptions(&dockertest.RunOptions{Repository: "postgres", Tag: "15-bookworm", Env: []string{"POSTGRES_PASSWORD=pw"}, Labels: map[string]string{"bench.run": "LABEL"}})
	if err != nil { t.Fatal(err) }
	defer pool.Purge(res)
	dsn := "postgres://postgres:pw@localhost:" + res.GetPort("5432/tcp") + "/postgres"
	if err := pool.Retry(func() error { c, err := pgx.Connect(context.Background(), dsn); if err != nil { return err }; return c.Close(context.Background()) }); err != nil { t.Fatal(err) }
}
`,
}

// rssProbe reports the test binary's own peak RSS. The rusage of a child
// is no use here: Linux carries the RSS high-water mark of the process that
// forked it (this one, some 20 MB after the scenarios) across the exec.
const rssProbe = `package x
import ("fmt"; "os"; "strings"; "testing")
func TestZZPeakRSS(t *testing.T) {
	b, err := os.ReadFile("/proc/self/status"); if err != nil { t.Fatal(err) }
	for _, l := range strings.Split(string(b), "\n") { if strings.HasPrefix(l, "VmHWM:") { fmt.Println("PEAK-RSS", strings.Fields(l)[1]) } }
}
`

// peakRSS finds the probe's line (KiB) in a test binary's output.
func peakRSS(out string) int64 {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "PEAK-RSS "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

type compiled struct {
	name    string
	compile time.Duration
	size    int64
	rss     int64 // KiB
	err     error
}

// compileScenario builds each program in a copy of this module (so every
// dependency resolves as in bench/go.mod) with an empty GOCACHE, then runs
// it once for its peak RSS.
func compileScenario() []compiled {
	here, _ := os.Getwd()
	var out []compiled
	for _, name := range []string{"raw", "berth", "testcontainers-go", "dockertest"} {
		c := compiled{name: name}
		dir, err := os.MkdirTemp("", "berth-bench-compile-")
		if err != nil {
			c.err = err
			out = append(out, c)
			continue
		}
		mod, _ := os.ReadFile(filepath.Join(here, "go.mod"))
		sum, _ := os.ReadFile(filepath.Join(here, "go.sum"))
		modText := strings.Replace(string(mod), "=> ../", "=> "+filepath.Dir(here), 1)
		modText = strings.Replace(modText, "module github.com/berth-go/berth/bench", "module x", 1)
		os.WriteFile(filepath.Join(dir, "go.mod"), []byte(modText), 0o644)
		os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644)
		src := strings.ReplaceAll(programs[name], "LABEL", sessionLabel)
		os.WriteFile(filepath.Join(dir, "x_test.go"), []byte(src), 0o644)
		os.WriteFile(filepath.Join(dir, "zz_rss_test.go"), []byte(rssProbe), 0o644)
		cache := filepath.Join(dir, "gocache")
		cmd := exec.Command("go", "test", "-c", "-o", "x.test", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOCACHE="+cache, "GOFLAGS=-mod=mod")
		start := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			c.err = fmt.Errorf("%v: %s", err, firstLine(string(b)))
			out = append(out, c)
			os.RemoveAll(dir)
			continue
		}
		c.compile = time.Since(start)
		if st, err := os.Stat(filepath.Join(dir, "x.test")); err == nil {
			c.size = st.Size()
		}
		run := exec.Command("./x.test", "-test.count=1")
		run.Dir = dir
		run.Env = append(os.Environ(), "TESTCONTAINERS_RYUK_DISABLED=true", "TESTCONTAINERS_HOST_OVERRIDE=localhost")
		if b, err := run.CombinedOutput(); err != nil {
			c.err = fmt.Errorf("run: %v: %s", err, firstLine(string(b)))
		} else {
			c.rss = peakRSS(string(b))
		}
		out = append(out, c)
		os.RemoveAll(dir)
	}
	return out
}

func renderCompile(cs []compiled) string {
	var b strings.Builder
	b.WriteString("\n## Build cost and footprint of a one-postgres test\n\n`go test -c` with an empty GOCACHE (module cache warm), binary size, and peak RSS of one run.\n\n")
	b.WriteString("| contender | cold compile | vs raw | binary | vs raw | peak RSS | vs raw |\n|---|---|---|---|---|---|---|\n")
	var raw compiled
	for _, c := range cs {
		if c.name == "raw" {
			raw = c
		}
	}
	for _, c := range cs {
		if c.err != nil && c.size == 0 {
			fmt.Fprintf(&b, "| %s | failed: %s | | | | | |\n", c.name, strings.ReplaceAll(firstLine(c.err.Error()), "|", "/"))
			continue
		}
		rss := "n/a"
		rssVs := ""
		if c.rss > 0 {
			rss = fmt.Sprintf("%.1f MB", float64(c.rss)/1024)
			if raw.rss > 0 {
				rssVs = fmt.Sprintf("%.2f×", float64(c.rss)/float64(raw.rss))
			}
		}
		fmt.Fprintf(&b, "| %s | %.1f s | %+.1f s | %.1f MB | %+.1f MB | %s | %s |\n", c.name,
			c.compile.Seconds(), (c.compile - raw.compile).Seconds(),
			float64(c.size)/1e6, float64(c.size-raw.size)/1e6, rss, rssVs)
	}
	return b.String()
}
