package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Where a local engine listens when nothing names one. Users of rootless
// Docker, Docker Desktop, Colima, Rancher Desktop, OrbStack and Podman
// have an engine, just not at /var/run/docker.sock; the docker CLI needs
// a context or DOCKER_HOST for them, and a test run should not.
//
// The search order (SocketSearch.Places):
//
//  1. /var/run/docker.sock                     Docker (and Docker Desktop's link)
//  2. $XDG_RUNTIME_DIR/docker.sock             rootless Docker (else /run/user/UID)
//  3. ~/.docker/run/docker.sock                Docker Desktop
//  4. ~/.docker/desktop/docker.sock            Docker Desktop, older releases
//  5. $COLIMA_HOME/default/docker.sock         Colima, when COLIMA_HOME is set
//  6. ~/.colima/default/docker.sock            Colima
//  7. $XDG_CONFIG_HOME/colima/default/docker.sock  Colima, newer releases
//  8. ~/.rd/docker.sock                        Rancher Desktop
//  9. ~/.orbstack/run/docker.sock              OrbStack
//  10. $XDG_RUNTIME_DIR/podman/podman.sock     rootless Podman
//  11. /run/podman/podman.sock                 rootful Podman
//
// The first place holding a socket that answers GET /_ping within
// DefaultPingTimeout wins; a socket that exists but does not answer (a
// stopped Docker Desktop leaves its socket behind) is passed over.

// DefaultPingTimeout bounds the ping of each socket the search finds. A
// local engine answers /_ping in about a millisecond.
const DefaultPingTimeout = time.Second

// SocketPlace is one place the search looks for an engine's socket.
type SocketPlace struct {
	// Engine is what usually listens there: "Docker", "rootless Docker",
	// "Docker Desktop", "Colima", "Rancher Desktop", "OrbStack",
	// "rootless Podman", "rootful Podman".
	Engine string
	// Path is the socket's file.
	Path string
}

// PlaceResult is what the search saw at one place.
type PlaceResult struct {
	SocketPlace
	// Answered is true when a socket is there and answered /_ping.
	Answered bool
	// State says what is there: "no such file", "not a socket (MODE)",
	// "no answer to /_ping: ERR" or, when Answered, "answers /_ping
	// (Server: …)".
	State string
}

// SocketSearch holds what the places are made of, so a test can point
// them into a temporary directory; SocketSearchFromEnv fills it for real.
type SocketSearch struct {
	// Root is put in front of the system-wide paths (/var/run, /run);
	// "" outside tests.
	Root string
	// Home is the user's home directory; "" leaves out the places under it.
	Home string
	// RuntimeDir is $XDG_RUNTIME_DIR; "" (or a relative path, which the
	// XDG spec says to ignore) means Root/run/user/UID.
	RuntimeDir string
	// ConfigDir is $XDG_CONFIG_HOME; "" means Home/.config.
	ConfigDir string
	// ColimaHome is $COLIMA_HOME; "" leaves its place out.
	ColimaHome string
	// UID is the user's id, for /run/user/UID.
	UID int
	// PingTimeout bounds each socket's ping; 0 means DefaultPingTimeout.
	PingTimeout time.Duration
}

var searchRoot atomic.Pointer[string]

// SetSearchRoot makes SocketSearchFromEnv (and so EndpointFromEnv) look
// for the system-wide sockets under root instead of /, so a test can hide
// the machine's /var/run/docker.sock from the search. It returns a func
// that restores the previous root. For tests only.
func SetSearchRoot(root string) (restore func()) {
	old := searchRoot.Swap(&root)
	return func() { searchRoot.Store(old) }
}

// EndpointFromEnv resolves the engine endpoint the way the docker CLI does:
// DOCKER_HOST, then DOCKER_CONTEXT, then config.json's currentContext;
// when they name none, the first socket of SocketSearchFromEnv().Places()
// that answers /_ping (SocketSearch.Endpoint: /var/run/docker.sock, then
// rootless Docker, Docker Desktop, Colima, Rancher Desktop, OrbStack,
// rootless and rootful Podman), else DefaultHost with the places searched.
// DOCKER_TLS_VERIFY and DOCKER_CERT_PATH add TLS.
func EndpointFromEnv() (Endpoint, error) {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		ep := Endpoint{Host: h, From: "DOCKER_HOST"}
		tlsCfg, err := tlsFromEnv(h)
		if err != nil {
			return Endpoint{}, err
		}
		if tlsCfg != nil {
			ep.TLS, ep.TLSFrom = tlsCfg, "DOCKER_CERT_PATH"
		}
		return redactEndpoint(ep)
	}
	name := os.Getenv("DOCKER_CONTEXT")
	if name == "" {
		n, err := currentContext()
		if err != nil {
			return Endpoint{}, err
		}
		name = n
	}
	if name != "" && name != "default" {
		ep, err := contextEndpoint(name)
		if err != nil {
			return Endpoint{}, err
		}
		return redactEndpoint(ep)
	}
	return SocketSearchFromEnv().Endpoint(), nil
}

// SocketSearchFromEnv is the search for this process: $HOME,
// $XDG_RUNTIME_DIR, $XDG_CONFIG_HOME, $COLIMA_HOME and the user's id.
func SocketSearchFromEnv() SocketSearch {
	s := SocketSearch{
		RuntimeDir: os.Getenv("XDG_RUNTIME_DIR"),
		ConfigDir:  os.Getenv("XDG_CONFIG_HOME"),
		ColimaHome: os.Getenv("COLIMA_HOME"),
		UID:        os.Getuid(),
	}
	if r := searchRoot.Load(); r != nil {
		s.Root = *r
	}
	if home, err := os.UserHomeDir(); err == nil {
		s.Home = home
	}
	return s
}

// Places lists where the search looks, in order. /var/run/docker.sock
// comes first, so nothing changes for whoever has an engine there (the
// docker CLI's default); then the user's own engines, rootless Docker
// before the desktop VMs; Podman last, as its Docker API is a
// compatibility layer (rootless before rootful, like `podman` itself).
func (s SocketSearch) Places() []SocketPlace {
	sys := func(p string) string { return filepath.Join(s.Root, filepath.FromSlash(p)) }
	run := s.RuntimeDir
	if run == "" || !filepath.IsAbs(run) {
		run = sys("/run/user/" + strconv.Itoa(s.UID))
	}
	places := []SocketPlace{
		{"Docker", sys("/var/run/docker.sock")},
		{"rootless Docker", filepath.Join(run, "docker.sock")},
	}
	if s.Home != "" {
		home := func(p ...string) string { return filepath.Join(append([]string{s.Home}, p...)...) }
		cfg := s.ConfigDir
		if cfg == "" || !filepath.IsAbs(cfg) {
			cfg = home(".config")
		}
		places = append(places,
			SocketPlace{"Docker Desktop", home(".docker", "run", "docker.sock")},
			SocketPlace{"Docker Desktop", home(".docker", "desktop", "docker.sock")}, // older releases
		)
		if filepath.IsAbs(s.ColimaHome) {
			places = append(places, SocketPlace{"Colima", filepath.Join(s.ColimaHome, "default", "docker.sock")})
		}
		places = append(places,
			SocketPlace{"Colima", home(".colima", "default", "docker.sock")},
			SocketPlace{"Colima", filepath.Join(cfg, "colima", "default", "docker.sock")}, // newer releases, when there is no ~/.colima
			SocketPlace{"Rancher Desktop", home(".rd", "docker.sock")},
			SocketPlace{"OrbStack", home(".orbstack", "run", "docker.sock")},
		)
	}
	places = append(places,
		SocketPlace{"rootless Podman", filepath.Join(run, "podman", "podman.sock")},
		SocketPlace{"rootful Podman", sys("/run/podman/podman.sock")},
	)
	seen := map[string]bool{}
	out := places[:0]
	for _, p := range places {
		if !seen[p.Path] {
			seen[p.Path] = true
			out = append(out, p)
		}
	}
	return out
}

// Look checks one place: is there a socket, and does it answer /_ping
// within the search's PingTimeout?
func (s SocketSearch) Look(ctx context.Context, p SocketPlace) PlaceResult {
	r := PlaceResult{SocketPlace: p}
	fi, err := os.Stat(p.Path)
	switch {
	case os.IsNotExist(err):
		r.State = "no such file"
		return r
	case err != nil:
		r.State = err.Error()
		return r
	case fi.Mode()&os.ModeSocket == 0:
		r.State = "not a socket (" + fi.Mode().String() + ")"
		return r
	}
	timeout := s.PingTimeout
	if timeout <= 0 {
		timeout = DefaultPingTimeout
	}
	server, err := pingSocket(ctx, p.Path, timeout)
	if err != nil {
		r.State = "no answer to /_ping: " + err.Error()
		return r
	}
	r.Answered = true
	r.State = "answers /_ping"
	if server != "" {
		r.State += " (Server: " + server + ")"
	}
	return r
}

// Search looks at the places in order and stops at the first that
// answers; it returns what it saw at each place it looked at.
func (s SocketSearch) Search(ctx context.Context) []PlaceResult {
	var out []PlaceResult
	for _, p := range s.Places() {
		r := s.Look(ctx, p)
		out = append(out, r)
		if r.Answered {
			break
		}
	}
	return out
}

// Endpoint is the engine at the first place whose socket answers, From
// "found: PATH (ENGINE)"; when none answers, DefaultHost, From "default",
// with what was seen at each place in Searched. On Windows, where engines
// listen on named pipes, there is no search: DefaultHost.
func (s SocketSearch) Endpoint() Endpoint {
	if runtime.GOOS == "windows" {
		return Endpoint{Host: DefaultHost, From: "default"}
	}
	results := s.Search(context.Background()) // never empty: Places has system-wide places
	if p := results[len(results)-1]; p.Answered {
		return Endpoint{Host: unixHost(p.Path), From: FoundPrefix + s.Tilde(p.Path) + " (" + p.Engine + ")"}
	}
	searched := make([]string, 0, len(results))
	for _, r := range results {
		searched = append(searched, s.Tilde(r.Path)+": "+r.State)
	}
	return Endpoint{Host: DefaultHost, From: "default", Searched: searched}
}

// Tilde writes a path under Home as ~/…, for messages.
func (s SocketSearch) Tilde(path string) string {
	if s.Home == "" || s.Home == "/" {
		return path
	}
	if rel, ok := strings.CutPrefix(path, s.Home+string(filepath.Separator)); ok {
		return "~" + string(filepath.Separator) + rel
	}
	return path
}

// pingSocket sends GET /_ping to the unix socket at path and returns the
// Server header of a 200 answer. The answer is read through a 64 KiB
// window: whatever listens there is not trusted to be an engine.
func pingSocket(ctx context.Context, path string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "unix", path)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := io.WriteString(conn, "GET /_ping HTTP/1.1\r\nHost: docker\r\nUser-Agent: berth\r\nConnection: close\r\n\r\n"); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(io.LimitReader(conn, 64<<10)), nil)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
			return "", fmt.Errorf("none within %v", timeout)
		}
		return "", err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("answered %s", resp.Status)
	}
	return resp.Header.Get("Server"), nil
}

// searchedNote tells, after a failed default endpoint, what the search
// saw at each place; "" when nothing was searched.
func searchedNote(searched []string) string {
	if len(searched) == 0 {
		return ""
	}
	return fmt.Sprintf("; no engine answered at any of the %d places searched (%s); for rootless Docker or Podman start the user's service (systemctl --user start docker, or podman.socket)", len(searched), strings.Join(searched, "; "))
}

// unixHost makes a unix:// host of path that url.Parse gives back (a '%',
// '?', '#' or space in the path is escaped).
func unixHost(path string) string {
	return (&url.URL{Scheme: "unix", Path: path}).String()
}
