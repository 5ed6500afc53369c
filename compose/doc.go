// Package compose runs a Compose file (the Compose specification that
// `docker compose` reads) inside a test, on berth's engine client, with
// berth's builds, waits, labels and cleanup:
//
//	func TestShop(t *testing.T) {
//		h := berth.New(t)
//		stack := compose.Up(h, "testdata/docker-compose.yml",
//			compose.WaitFor("web", wait.ForHTTP("/healthz").Port("8080/tcp")))
//		url := stack.Service("web").Endpoint(t.Context(), "8080/tcp")
//		dsn := "postgres://shop:pw@" + stack.Service("db").HostPort(t.Context(), "5432/tcp") + "/shop"
//		...
//	} // every container, network and volume of the stack is gone here
//
// What a file may use: services from an image or a build: (built through
// berth's build cache, so an unchanged context is not built again),
// command, entrypoint, environment and env_file, ports, named volumes
// (shared by the stack's services), anonymous volumes, bind mounts, tmpfs,
// networks with aliases (every service is also reachable by its name),
// healthcheck, depends_on with service_started, service_healthy and
// service_completed_successfully, profiles, user, working_dir, hostname,
// extra_hosts, labels, cap_add, privileged, mem_limit, cpus, tty,
// stdin_open, platform, pull_policy, stop_grace_period, extends, include,
// anchors and ${VAR} interpolation (from Var, the process environment and
// a .env file beside the Compose file, in that order of precedence).
// What berth cannot run faithfully (network_mode, volumes_from, secrets,
// configs, scale > 1, external networks or volumes, ...) is an error
// matching ErrUnsupported before anything is made.
//
// Differences from `docker compose up` that tests want: every published
// port gets a random free host port unless FixedPorts (read it with
// Service(name).Endpoint or HostPort); the project name gets a random
// suffix so parallel tests can run one file; Up waits until every service
// is ready (healthy where it has a healthcheck) and fails fast, naming
// the service, its exit code and last log lines, when one dies.
//
// Every container, network and volume carries berth's session labels, so
// the test's cleanup, the watchdog and `berth prune` remove it, and the
// labels `docker compose` reads: `docker compose -p NAME ps` (NAME is
// Stack.Name) lists the stack. Only this package imports compose-go: a
// test binary that does not use Compose links none of it.
package compose
