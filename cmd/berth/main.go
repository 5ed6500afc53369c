// Command berth inspects and cleans up after berth test sessions.
//
//	berth doctor [-registry HOST]...   engine and where it was found, API version, BuildKit, credential sources, leftovers
//	berth prune [-older-than D] [-session ID] [-dry-run] [-force] [-reuse] [-cache]
//
// prune removes only resources carrying berth labels; it never touches
// anything else. Resources of a session whose test process is still alive
// on this machine are kept unless -force is given.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-go/berth/build"
	"github.com/berth-go/berth/build/buildkit"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/link"
	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/registry"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "doctor":
		return doctor(args[1:], stdout, stderr)
	case "prune":
		return prune(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "berth: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  berth doctor [-registry HOST]...
      where the engine is and how it was found, API version, BuildKit,
      where registry credentials would come from, leftover resources
  berth prune [-older-than DURATION] [-session ID] [-dry-run] [-force] [-reuse] [-cache]
      remove resources labelled by berth sessions (never anything else)
`)
}

// Bounds of a command. An engine that takes a call and never answers is
// reported after cliResponseTimeout (BERTH_RESPONSE_TIMEOUT overrides
// it): a person is waiting, and a live engine answers these calls in
// milliseconds. The deadlines bound each command as a whole.
const (
	cliResponseTimeout = 15 * time.Second
	doctorDeadline     = 30 * time.Second
	pruneDeadline      = 5 * time.Minute
)

// newClient is the one place the commands make their engine client.
func newClient(opts ...wire.Option) (*wire.Client, error) {
	if os.Getenv(wire.EnvResponseTimeout) == "" {
		opts = append(opts, wire.WithResponseTimeout(cliResponseTimeout))
	}
	return wire.New(opts...)
}

// printSearch lists the places the socket search looks at, in its order,
// with what is at each now, and marks the one in use.
func printSearch(ctx context.Context, w io.Writer, ep wire.Endpoint) {
	if runtime.GOOS == "windows" {
		return
	}
	s := wire.SocketSearchFromEnv()
	switch {
	case strings.HasPrefix(ep.From, wire.FoundPrefix):
		fmt.Fprintln(w, "searched:    the first socket answering /_ping wins (DOCKER_HOST or a docker context would override):")
	case ep.From == "default":
		fmt.Fprintln(w, "searched:    no socket answered /_ping; set DOCKER_HOST or a docker context, or start an engine at one of:")
	default:
		fmt.Fprintf(w, "searched:    not needed, %s names the engine; without it berth would look at:\n", ep.From)
	}
	for _, p := range s.Places() {
		r := s.Look(ctx, p)
		mark := " "
		if r.Answered && strings.HasPrefix(ep.From, wire.FoundPrefix) && ep.Host == "unix://"+p.Path {
			mark = "*"
		}
		fmt.Fprintf(w, "  %s %-40s %-16s %s\n", mark, s.Tilde(p.Path), p.Engine, r.State)
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func doctor(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var registries multiFlag
	fs.Var(&registries, "registry", "registry host to report credentials for (repeatable; default: docker.io and every host in the Docker config)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), doctorDeadline)
	defer cancel()
	ep, err := wire.EndpointFromEnv()
	if err != nil {
		fmt.Fprintf(stdout, "engine:      configuration error: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "engine:      %s\n", ep)
	printSearch(ctx, stdout, ep)
	transport := ep.Scheme()
	if ep.TLS != nil {
		transport += "+tls (material from " + ep.TLSFrom + ")"
	}
	fmt.Fprintf(stdout, "transport:   %s\n", transport)
	c, err := newClient(wire.WithEndpoint(ep))
	if err != nil {
		fmt.Fprintf(stdout, "engine:      unusable: %v\n", err)
		return 1
	}
	defer c.Close()
	ec := link.Wrap(c).(*engine.Client)
	start := time.Now()
	ping, err := c.Ping(ctx)
	rtt := time.Since(start)
	if err != nil {
		fmt.Fprintf(stdout, "status:      unreachable\n  %v\n", err)
		return 1
	}
	// A second ping measures the round trip on a warm connection.
	start = time.Now()
	if _, err := c.Ping(ctx); err == nil {
		rtt = time.Since(start)
	}
	v, err := c.Version(ctx)
	if err != nil {
		fmt.Fprintf(stdout, "status:      unusable\n  %v\n", err)
		return 1
	}
	sv, _ := c.ServerVersion(ctx)
	fmt.Fprintf(stdout, "status:      ok, round trip %s\n", rtt.Round(10*time.Microsecond))
	fmt.Fprintf(stdout, "server:      %s %s (%s), engine API %s, speaking %s\n", serverName(ping), sv.Version, sv.Os+"/"+sv.Arch, ping.APIVersion, v)
	bk := "no: classic /build only (/grpc did not answer ListWorkers)"
	if p, ok := buildkit.Backend.(build.Prober); ok && p.Available(ctx, ec) {
		bk = "yes: /grpc answered ListWorkers; builds use it in programs that import build/buildkit"
	}
	if os.Getenv("BERTH_BUILDER") == "classic" {
		bk += "; BERTH_BUILDER=classic forces the classic builder"
	}
	fmt.Fprintf(stdout, "buildkit:    %s\n", bk)

	kc := registry.DefaultKeychain()
	hosts := []string(registries)
	if len(hosts) == 0 {
		hosts = []string{"docker.io"}
		known, err := registry.KnownHosts(ctx, kc)
		if err != nil {
			fmt.Fprintf(stdout, "credentials: %v\n", err)
		}
		hosts = append(hosts, known...)
	}
	fmt.Fprintf(stdout, "credentials: (Docker config %s)\n", registry.ConfigPath())
	seen := map[string]bool{}
	for _, h := range hosts {
		key := registry.AuthKey(h)
		if seen[key] {
			continue
		}
		seen[key] = true
		_, src, err := kc.Resolve(ctx, h)
		if err != nil {
			fmt.Fprintf(stdout, "  %-28s error: %v\n", h, err)
			continue
		}
		fmt.Fprintf(stdout, "  %-28s %s\n", h, src)
	}

	if err := reportRuns(ctx, stdout, ec); err != nil {
		fmt.Fprintf(stdout, "shared:      cannot list: %v\n", err)
		return 1
	}
	inv, err := inventory(ctx, ec, engine.LabelSession)
	if err != nil {
		fmt.Fprintf(stdout, "leftovers:   cannot list: %v\n", err)
		return 1
	}
	inv = sessionOwned(inv)
	if len(inv) == 0 {
		fmt.Fprintln(stdout, "leftovers:   none")
		return 0
	}
	bySession := map[string][]item{}
	running := 0
	for _, it := range inv {
		bySession[it.Session()] = append(bySession[it.Session()], it)
		if it.alive() {
			running++
		}
	}
	hint := "remove with: berth prune"
	switch {
	case running == len(inv):
		hint = "their test processes still run; berth prune keeps them unless -force"
	case running > 0:
		hint = fmt.Sprintf("berth prune removes the %d of ended processes; the %d of running ones need -force", len(inv)-running, running)
	}
	fmt.Fprintf(stdout, "leftovers:   %d resources in %d sessions (%s)\n", len(inv), len(bySession), hint)
	for _, s := range slices.Sorted(maps.Keys(bySession)) {
		items := bySession[s]
		oldest := items[0].Created
		for _, it := range items {
			if it.Created.Before(oldest) {
				oldest = it.Created
			}
		}
		state := "process gone"
		switch it := items[0]; {
		case it.alive() && it.judgeable():
			state = "process " + it.pid + " running"
		case it.alive():
			state = fmt.Sprintf("on %s (another host or PID namespace), lease ends in %s", orDash(it.Labels[engine.LabelHost]), time.Until(it.Expires()).Round(time.Second))
		case it.Expired(time.Now()):
			state = "lease ended"
		}
		fmt.Fprintf(stdout, "  session %s: %d resources, oldest %s ago, %s\n", s, len(items), age(oldest), state)
		for _, it := range items {
			fmt.Fprintf(stdout, "    %-9s %s %s\n", it.Kind, it.Name, it.Test())
		}
	}
	return 0
}

// reportRuns lists the containers and volumes shared by the test binaries
// of `go test` runs (Harness.Shared), by run, and whether each run is over.
func reportRuns(ctx context.Context, stdout io.Writer, c *engine.Client) error {
	inv, err := inventory(ctx, c, engine.LabelRun)
	if err != nil {
		return err
	}
	if len(inv) == 0 {
		fmt.Fprintln(stdout, "shared:      no run-shared containers")
		return nil
	}
	byRun := map[string][]item{}
	for _, it := range inv {
		key := it.Labels[engine.LabelRun]
		byRun[key] = append(byRun[key], it)
	}
	ended := 0
	for _, items := range byRun {
		if runEnded(items[0]) {
			ended++
		}
	}
	hint := "removed when their go command exits"
	if ended > 0 {
		hint = fmt.Sprintf("%d of ended runs: remove with berth prune -runs", ended)
	}
	fmt.Fprintf(stdout, "shared:      %d resources of %d go test runs (%s)\n", len(inv), len(byRun), hint)
	for _, key := range slices.Sorted(maps.Keys(byRun)) {
		items := byRun[key]
		state := "go process " + items[0].Labels[engine.LabelRunPID] + " running"
		if runEnded(items[0]) {
			state = "ended"
		}
		fmt.Fprintf(stdout, "  run %s: %d resources, %s\n", key, len(items), state)
		for _, it := range items {
			fmt.Fprintf(stdout, "    %-9s %s\n", it.Kind, it.Name)
		}
	}
	return nil
}

// runEnded reports whether the `go test` run that shares it has ended.
func runEnded(it item) bool {
	return it.RunEnded(time.Now())
}

func serverName(p wire.Ping) string {
	if p.IsPodman() {
		return "Podman"
	}
	return "Docker Engine"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func age(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return time.Since(t).Round(time.Second).String()
}

// item is one labelled resource and the process that made it.
type item struct {
	engine.Resource
	pid string
}

// alive reports whether the session's process still runs on this machine.
func (it item) alive() bool {
	if it.Expired(time.Now()) {
		// Past its lease the session has ended, whatever process now
		// holds its PID.
		return false
	}
	if !it.judgeable() {
		// Another machine's or PID namespace's process: keep it until
		// its lease ends.
		return true
	}
	pid, err := strconv.Atoi(it.pid)
	if err != nil || pid <= 0 {
		return false
	}
	return processAlive(pid)
}

// judgeable reports whether the session's PID names a process here: it
// ran on this host in this PID namespace (older sessions did not say).
func (it item) judgeable() bool {
	if h := it.Labels[engine.LabelHost]; h != "" {
		if mine, err := os.Hostname(); err != nil || mine != h {
			return false
		}
	}
	if ns := it.Labels[engine.LabelPIDNS]; ns != "" {
		if mine, err := os.Readlink("/proc/self/ns/pid"); err != nil || mine != ns {
			return false
		}
	}
	return true
}

// sessionOwned drops warm-start cache images: they carry a blanked session
// label and outlive every session.
func sessionOwned(inv []item) []item {
	out := inv[:0]
	for _, it := range inv {
		if it.Session() != "" {
			out = append(out, it)
		}
	}
	return out
}

func inventory(ctx context.Context, c *engine.Client, label string) ([]item, error) {
	rs, err := c.List(ctx, engine.Labelled(label))
	if err != nil {
		return nil, err
	}
	out := make([]item, len(rs))
	for i, r := range rs {
		out[i] = item{Resource: r, pid: r.Labels[engine.LabelPID]}
	}
	return out, nil
}

// keptSummary says what prune left and why.
func keptSummary(young, running int, olderThan time.Duration) string {
	var why []string
	if young > 0 {
		why = append(why, fmt.Sprintf("%d younger than %s", young, olderThan))
	}
	if running > 0 {
		why = append(why, fmt.Sprintf("%d of sessions or go test runs whose process still runs (-force removes them)", running))
	}
	if len(why) == 0 {
		return "0 kept"
	}
	return fmt.Sprintf("%d kept: %s", young+running, strings.Join(why, ", "))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func prune(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("prune", flag.ContinueOnError)
	fs.SetOutput(stderr)
	olderThan := fs.Duration("older-than", 0, "only resources older than this (e.g. 1h)")
	session := fs.String("session", "", "only resources of this session")
	dryRun := fs.Bool("dry-run", false, "list what would be removed, remove nothing")
	force := fs.Bool("force", false, "also remove resources of sessions whose process is still running here")
	reuse := fs.Bool("reuse", false, "remove containers kept by Reuse(name) instead of session resources")
	cache := fs.Bool("cache", false, "remove warm-start cache images (berth-cache/*) instead of session resources")
	shared := fs.Bool("runs", false, "remove what go test runs shared between their test binaries (Harness.Shared) once the run is over, instead of session resources")
	runKey := fs.String("run", "", "only what run KEY shares (implies -runs; berth doctor lists the runs)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "berth prune: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *olderThan < 0 {
		fmt.Fprintln(stderr, "berth prune: -older-than must be positive")
		return 2
	}
	if *runKey != "" {
		*shared = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), pruneDeadline)
	defer cancel()
	w, err := newClient()
	if err != nil {
		fmt.Fprintf(stderr, "berth prune: %v\n", err)
		return 1
	}
	c := link.Wrap(w).(*engine.Client)
	defer c.Close()
	label := engine.LabelSession
	switch {
	case btoi(*reuse)+btoi(*cache)+btoi(*shared) > 1:
		fmt.Fprintln(stderr, "berth prune: choose one of -reuse, -cache and -runs")
		return 2
	case *shared && *runKey != "":
		label = engine.RunSelector(*runKey)
	case *shared:
		label = engine.LabelRun
	case *reuse:
		label = engine.LabelReuse
	case *cache:
		label = engine.LabelCache
	case *session != "":
		label = engine.SessionSelector(*session)
	}
	inv, err := inventory(ctx, c, label)
	if err != nil {
		fmt.Fprintf(stderr, "berth prune: %v\n", err)
		return 1
	}
	if !*reuse && !*cache && !*shared {
		inv = sessionOwned(inv)
	}

	var removed, would, young, running, failed int
	for _, it := range inv {
		if *olderThan > 0 && !it.Created.IsZero() && time.Since(it.Created) < *olderThan {
			young++
			continue
		}
		if !*force && !*reuse && !*cache && !*shared && it.alive() {
			running++
			continue
		}
		if !*force && *shared && !runEnded(it) {
			running++
			continue
		}
		if *dryRun {
			fmt.Fprintf(stdout, "would remove %s %s (session %s, age %s)\n", it.Kind, it.Name, orDash(it.Session()), age(it.Created))
			would++
			continue
		}
		if err := c.Remove(ctx, it.Resource); err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			failed++
			continue
		}
		fmt.Fprintf(stdout, "removed %s %s\n", it.Kind, it.Name)
		removed++
	}
	done := fmt.Sprintf("%d removed", removed)
	if *dryRun {
		done = fmt.Sprintf("%d would be removed", would)
	}
	fmt.Fprintf(stdout, "%s, %s\n", done, keptSummary(young, running, *olderThan))
	if failed > 0 {
		return 1
	}
	return 0
}
