package main

// The suite scenario (-suite): a generated module of 10 packages x 20
// tests, each test needing an isolated postgres holding a 3-row schema,
// run with `go test -p 2 ./...` after its binaries were built once (so the
// compile is not timed). Rows:
//   - berth clones: every test parallel, each with a database cloned from
//     one postgres server shared by the whole run (Shared + Clone);
//   - berth Snapshot/Restore: one server per package (warm start),
//     Snapshot once, Restore before each test, tests serial.
// testcontainers-go's rows (433.7 s container per test, 116.5 s
// Snapshot/Restore) take many minutes; issue 23 has them.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	suitePackages = 10
	suiteTests    = 20
)

// suiteClones is one package of the clones row. Each test appends
// "<start ns> <wait ns>" to $OUT/<pkg>: how long Start and Clone took.
const suiteClones = `
import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/internal/tests/pgclone"
	"github.com/berth-go/berth/modules/postgres"
)

func TestItems(t *testing.T) {
	for i := range %d {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			t0 := time.Now()
			pg := postgres.New(berth.New(t).Shared()).InitSQL(pgclone.Schema).Start()
			started := time.Since(t0)
			db := pg.Clone(t)
			pgclone.Isolated(t, db.DSN())
			record(t, started, db.Waited())
		})
	}
}

func record(t *testing.T, start, wait time.Duration) {
	wd, _ := os.Getwd()
	f, err := os.OpenFile(filepath.Join(os.Getenv("OUT"), filepath.Base(wd)), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintf(f, "%%d %%d\n", start, wait)
}
`

// suiteSnapshot is one package of the Snapshot/Restore row.
const suiteSnapshot = `
import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/internal/tests/pgclone"
	"github.com/berth-go/berth/modules/postgres"
)

var pg *postgres.Container

func TestMain(m *testing.M) {
	ctx := context.Background()
	s, err := berth.NewSession(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pg, err = postgres.New(s).InitSQL(pgclone.Schema).StartE(ctx)
	if err == nil {
		err = pg.Snapshot(ctx, "clean")
	}
	if err != nil {
		s.Close(ctx)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	s.Close(ctx)
	os.Exit(code)
}

func TestItems(t *testing.T) {
	for i := range %d {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			ctx := context.Background()
			if err := pg.Restore(ctx, "clean"); err != nil {
				t.Fatal(err)
			}
			pgclone.Isolated(t, pg.DSN())
		})
	}
}
`

// suiteModule writes the generated module with pkg as every package.
func suiteModule(pkg string) (string, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "berth-suite-")
	if err != nil {
		return "", err
	}
	// Under berth's module path: the tests import internal/tests/pgclone.
	gomod := "module github.com/berth-go/berth/suite\n\ngo 1.24\n\nrequire github.com/berth-go/berth v0.0.0\n\nreplace github.com/berth-go/berth => " + root + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return "", err
	}
	// berth's and the bench's: the module needs both's dependencies.
	var sum []byte
	for _, f := range []string{"go.sum", "../go.sum"} {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		sum = append(sum, b...)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		return "", err
	}
	for i := range suitePackages {
		name := fmt.Sprintf("p%02d", i)
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, name, name+"_test.go"), []byte("package "+name+"\n"+pkg), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

func goTestIn(dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", append([]string{"test"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off"), env...)
	return cmd.CombinedOutput()
}

// suiteRow runs the suite of pkg once: a build (not timed), then the run.
func suiteRow(pkg string) (time.Duration, string, error) {
	dir, err := suiteModule(pkg)
	if err != nil {
		return 0, "", err
	}
	defer os.RemoveAll(dir)
	if b, err := goTestIn(dir, nil, "-count=1", "-run", "^$", "./..."); err != nil {
		return 0, "", fmt.Errorf("build: %v\n%s", err, b)
	}
	out, err := os.MkdirTemp("", "berth-suite-out-")
	if err != nil {
		return 0, "", err
	}
	defer os.RemoveAll(out)
	t0 := time.Now()
	b, err := goTestIn(dir, []string{"OUT=" + out}, "-count=1", "-p", "2", "./...")
	total := time.Since(t0)
	if err != nil {
		return 0, "", fmt.Errorf("go test: %v\n%s", err, b)
	}
	return total, summarize(out), nil
}

// summarize reads the per-test records of the clones row.
func summarize(out string) string {
	files, _ := filepath.Glob(filepath.Join(out, "*"))
	if len(files) == 0 {
		return ""
	}
	var starts, waits, warm []time.Duration
	for _, f := range files {
		data, _ := os.ReadFile(f)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		for i, l := range lines {
			a, b, _ := strings.Cut(l, " ")
			s, _ := strconv.ParseInt(a, 10, 64)
			w, _ := strconv.ParseInt(b, 10, 64)
			starts = append(starts, time.Duration(s))
			waits = append(waits, time.Duration(w))
			// The pool is warm once a binary's first clones were made.
			if i >= 4 {
				warm = append(warm, time.Duration(w))
			}
		}
	}
	q := func(d []time.Duration, p float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		s := append([]time.Duration(nil), d...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return s[int(p*float64(len(s)-1))]
	}
	return fmt.Sprintf("tests %d; Start (server ready or joined): median %v, max %v; wait for a database: median %v, p90 %v, max %v; once the pool is warm (5th test of a binary on): median %v, p90 %v",
		len(waits), q(starts, .5).Round(time.Millisecond), q(starts, 1).Round(time.Millisecond),
		q(waits, .5).Round(time.Microsecond), q(waits, .9).Round(time.Millisecond), q(waits, 1).Round(time.Millisecond),
		q(warm, .5).Round(time.Microsecond), q(warm, .9).Round(time.Millisecond))
}

// runSuite runs each row rounds times and writes SUITE.md.
func runSuite(rounds int, out string) error {
	rows := []struct{ name, pkg string }{
		{"berth: clones from a run-shared server, tests parallel", fmt.Sprintf(suiteClones, suiteTests)},
		{"berth: Snapshot/Restore, one server per package, tests serial", fmt.Sprintf(suiteSnapshot, suiteTests)},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## Suite: %d packages x %d tests, each with an isolated postgres (3-row schema)\n\n", suitePackages, suiteTests)
	fmt.Fprintf(&b, "`go test -count=1 -p 2 ./...` of a generated module, binaries built before (not timed); %d rounds each, %s.\n\n", rounds, time.Now().UTC().Format("2006-01-02"))
	b.WriteString("| row | total (each round) | details (last round) |\n|---|---|---|\n")
	for _, r := range rows {
		if only := os.Getenv("SUITE_ROW"); only != "" && !strings.Contains(r.name, only) {
			continue
		}
		var totals []string
		var detail string
		for i := range rounds {
			fmt.Fprintf(os.Stderr, "== suite: %s (round %d)\n", r.name, i+1)
			total, d, err := suiteRow(r.pkg)
			if err != nil {
				return err
			}
			totals = append(totals, fmt.Sprintf("%.1f s", total.Seconds()))
			detail = d
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r.name, strings.Join(totals, ", "), detail)
	}
	fmt.Print(b.String())
	if out != "" {
		return os.WriteFile(out, []byte(b.String()), 0o644)
	}
	return nil
}
