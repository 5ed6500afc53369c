// Command bench measures berth against raw Engine API calls,
// testcontainers-go and dockertest on the same engine, in one run, with
// the contenders interleaved and their order rotated every round. Only
// same-run ratios count: the machine is shared and noisy.
//
//	cd bench && go run .            # 15 rounds, writes RESULTS.md
//	cd bench && go run . -quick     # 3 rounds, a smoke run
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/berth-go/berth"
)

type contender struct {
	name string
	run  measurement
}

// measurement does one measured iteration and returns its duration and a
// cleanup that is not measured.
type measurement func(ctx context.Context) (time.Duration, func(), error)

type scenario struct {
	name  string
	goal  string
	delta bool // report the difference to raw instead of the ratio
	// base names the contender the others are compared with when there is
	// no raw one (a Compose file has no plain-API equivalent here).
	base       string
	contenders []contender
}

var sessionLabel = fmt.Sprintf("bench-%d", time.Now().UnixNano())

func main() {
	rounds := flag.Int("rounds", 15, "rounds per scenario")
	quick := flag.Bool("quick", false, "3 rounds, a smoke run")
	only := flag.String("only", "", "run scenarios whose name contains this")
	out := flag.String("out", "RESULTS.md", "file for the results table (empty: none)")
	suite := flag.Int("suite", 0, "instead: run the 10x20 postgres suite this many rounds, write SUITE.md")
	flag.Parse()
	if *suite > 0 {
		if err := runSuite(*suite, "SUITE.md"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if *quick {
		*rounds = 3
	}
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "localhost")
	ctx := context.Background()
	s, err := berth.NewSession(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer s.Close(ctx)
	env := newEnv(s)
	defer env.sweep()

	var results []result
	for _, sc := range scenarios(env) {
		if *only != "" && !strings.Contains(sc.name, *only) {
			continue
		}
		fmt.Fprintf(os.Stderr, "== %s (%d rounds)\n", sc.name, *rounds)
		results = append(results, runScenario(ctx, sc, *rounds))
	}
	table := render(results, env.engineVersion(ctx), *rounds)
	if !*quick && (*only == "" || strings.Contains("compile", *only)) {
		fmt.Fprintln(os.Stderr, "== compile, binary size, RSS")
		table += renderCompile(compileScenario())
	}
	fmt.Print(table)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(table), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}

type result struct {
	sc      scenario
	samples map[string][]time.Duration
	errs    map[string]string
}

func runScenario(ctx context.Context, sc scenario, rounds int) result {
	r := result{sc: sc, samples: map[string][]time.Duration{}, errs: map[string]string{}}
	n := len(sc.contenders)
	for round := 0; round < rounds; round++ {
		for i := 0; i < n; i++ {
			c := sc.contenders[(i+round)%n]
			if _, failed := r.errs[c.name]; failed {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			d, cleanup, err := c.run(cctx)
			cancel()
			if cleanup != nil {
				cleanup()
			}
			if err != nil {
				r.errs[c.name] = err.Error()
				fmt.Fprintf(os.Stderr, "   %s: %v\n", c.name, err)
				continue
			}
			r.samples[c.name] = append(r.samples[c.name], d)
		}
	}
	return r
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	return s[int(q*float64(len(s)-1)+0.5)]
}

func render(results []result, engine string, rounds int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# berth benchmark results\n\n%s, engine %s, %d rounds per scenario, contenders interleaved with the order rotated every round.\n\n",
		time.Now().UTC().Format("2006-01-02"), engine, rounds)
	b.WriteString("Reproduce: `make bench` (or `cd bench && go run .`).\n\n")
	b.WriteString("testcontainers-go runs with `TESTCONTAINERS_RYUK_DISABLED=true` (its reaper image cannot be pulled here), so it has no crash-safe cleanup in these runs; berth keeps its watchdog on.\n\n")
	b.WriteString("| scenario | contender | median | p90 | vs raw | goal |\n|---|---|---|---|---|---|\n")
	for _, r := range results {
		base := "raw"
		if r.sc.base != "" {
			base = r.sc.base
		}
		raw := quantile(r.samples[base], 0.5)
		for _, c := range r.sc.contenders {
			ds := r.samples[c.name]
			if e, failed := r.errs[c.name]; failed && len(ds) == 0 {
				fmt.Fprintf(&b, "| %s | %s | failed: %s | | | |\n", r.sc.name, c.name, strings.ReplaceAll(firstLine(e), "|", "/"))
				continue
			}
			med, p90 := quantile(ds, 0.5), quantile(ds, 0.9)
			vs := ""
			switch {
			case c.name == base && base != "raw":
				vs = "1.00× (base)"
			case c.name == "raw":
				vs = "1.00×"
			case raw > 0 && r.sc.delta:
				vs = fmt.Sprintf("%+.1f ms", float64(med-raw)/float64(time.Millisecond))
			case raw > 0 && base != "raw":
				vs = fmt.Sprintf("%.2f× %s", float64(med)/float64(raw), base)
			case raw > 0:
				vs = fmt.Sprintf("%.2f×", float64(med)/float64(raw))
			}
			goal := ""
			if strings.HasPrefix(c.name, "berth") {
				goal = r.sc.goal
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.sc.name, c.name, ms(med), ms(p90), vs, goal)
		}
	}
	return b.String()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
