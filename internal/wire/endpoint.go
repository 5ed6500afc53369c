package wire

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// DefaultHost is the engine endpoint used when nothing else is configured.
const DefaultHost = "unix:///var/run/docker.sock"

// Endpoint says where the engine is and how to talk to it.
type Endpoint struct {
	Host string // unix:///path, tcp://host:port, ssh://user@host
	// From names the source of Host: "DOCKER_HOST", "context NAME",
	// "option", "found: PATH (ENGINE)" (the socket search found it, see
	// SocketSearch) or "default" (no socket answered).
	From string
	// Searched says what the socket search saw at each place ("PATH:
	// STATE") when From is "default", for the error that says no engine
	// answers.
	Searched []string
	// TLS material, when the endpoint uses TLS.
	TLS *tls.Config
	// TLSFrom says where the TLS material came from, for diagnostics.
	TLSFrom string
}

// String is the endpoint's host and where it came from. The Host of an
// endpoint from EndpointFromEnv or Client.Endpoint never holds a password
// (see RedactHost); String redacts one set by hand.
func (e Endpoint) String() string {
	if e.From == "" {
		return RedactHost(e.Host)
	}
	return RedactHost(e.Host) + " (" + origin(e.From) + ")"
}

// Format prints the endpoint as String in every verb, so no verb reaches
// the TLS material (private keys) by reflection.
func (e Endpoint) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", e.String())
		return
	}
	io.WriteString(f, e.String())
}

// RedactHost hides the password of an endpoint URL's userinfo:
// tcp://bob:pw@host:2376 becomes tcp://bob:xxxxx@host:2376. It works on
// strings url.Parse refuses too. Nothing uses a password in the URL (the
// engine API takes none, ssh logs in with keys or an agent), so berth
// keeps only the redacted form.
func RedactHost(h string) string {
	start := 0
	if i := strings.Index(h, "://"); i >= 0 {
		start = i + 3
	}
	rest := h[start:]
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return h
	}
	user := rest[:at]
	colon := strings.Index(user, ":")
	if colon < 0 || strings.HasPrefix(user, "/") { // no password; a unix path
		return h
	}
	if user[colon+1:] == redacted {
		return h
	}
	return h[:start] + user[:colon] + ":" + redacted + rest[at:]
}

const redacted = "xxxxx"

// Scheme is the endpoint's transport: unix, tcp, ssh or npipe.
func (e Endpoint) Scheme() string {
	if i := strings.Index(e.Host, "://"); i > 0 {
		return e.Host[:i]
	}
	return ""
}

// validateHost checks ep.Host; its messages quote the host redacted.
func validateHost(ep Endpoint) error {
	host := RedactHost(ep.Host)
	u, err := url.Parse(ep.Host)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("engine endpoint %q (from %s) is not a URL: use unix:///path, tcp://host:port or ssh://user@host", host, ep.From)
	}
	switch u.Scheme {
	case "unix":
		if u.Path == "" {
			return fmt.Errorf("engine endpoint %q (from %s) has no socket path", host, ep.From)
		}
	case "tcp", "http", "https":
		if u.Host == "" {
			return fmt.Errorf("engine endpoint %q (from %s) has no host", host, ep.From)
		}
	case "ssh":
		if u.Host == "" {
			return fmt.Errorf("engine endpoint %q (from %s) has no host", host, ep.From)
		}
	default:
		return fmt.Errorf("engine endpoint %q (from %s): scheme %q is not supported: use unix, tcp or ssh", host, ep.From, u.Scheme)
	}
	return nil
}

// redactEndpoint validates ep and drops any password from its Host.
func redactEndpoint(ep Endpoint) (Endpoint, error) {
	if err := validateHost(ep); err != nil {
		return Endpoint{}, err
	}
	ep.Host = RedactHost(ep.Host)
	return ep, nil
}

// dockerConfigDir is $DOCKER_CONFIG or ~/.docker.
func dockerConfigDir() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".docker"
	}
	return filepath.Join(home, ".docker")
}

func currentContext() (string, error) {
	path := filepath.Join(dockerConfigDir(), "config.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read docker config %s: %w", path, err)
	}
	var cfg struct {
		CurrentContext string `json:"currentContext"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return "", fmt.Errorf("docker config %s is not valid JSON (%v): fix or remove it", path, err)
	}
	return cfg.CurrentContext, nil
}

// contextEndpoint reads a docker CLI context: the metadata lives in
// contexts/meta/<sha256(name)>/meta.json and TLS files in
// contexts/tls/<sha256(name)>/docker/.
func contextEndpoint(name string) (Endpoint, error) {
	id := contextID(name)
	metaPath := filepath.Join(dockerConfigDir(), "contexts", "meta", id, "meta.json")
	data, err := os.ReadFile(metaPath)
	if errors.Is(err, os.ErrNotExist) {
		return Endpoint{}, fmt.Errorf("docker context %q not found (no %s): run `docker context ls`, or unset DOCKER_CONTEXT", name, metaPath)
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("read docker context %q: %w", name, err)
	}
	var meta struct {
		Endpoints map[string]struct {
			Host          string
			SkipTLSVerify bool
		}
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		return Endpoint{}, fmt.Errorf("docker context %q: %s is not valid JSON: %v", name, metaPath, err)
	}
	de, ok := meta.Endpoints["docker"]
	if !ok || de.Host == "" {
		return Endpoint{}, fmt.Errorf("docker context %q has no docker endpoint in %s", name, metaPath)
	}
	ep := Endpoint{Host: de.Host, From: "context " + name}
	tlsDir := filepath.Join(dockerConfigDir(), "contexts", "tls", id, "docker")
	if _, err := os.Stat(tlsDir); err == nil {
		cfg, err := loadTLS(tlsDir, !de.SkipTLSVerify)
		if err != nil {
			return Endpoint{}, fmt.Errorf("docker context %q: %w", name, err)
		}
		ep.TLS, ep.TLSFrom = cfg, "context "+name
	} else if de.SkipTLSVerify && strings.HasPrefix(de.Host, "tcp://") {
		ep.TLS, ep.TLSFrom = &tls.Config{InsecureSkipVerify: true}, "context "+name //nolint:gosec // the context asks for it
	}
	return ep, nil
}

func tlsFromEnv(host string) (*tls.Config, error) {
	verify := os.Getenv("DOCKER_TLS_VERIFY") != ""
	useTLS := verify || os.Getenv("DOCKER_TLS") != ""
	if !useTLS || strings.HasPrefix(host, "unix://") || strings.HasPrefix(host, "ssh://") {
		return nil, nil
	}
	dir := os.Getenv("DOCKER_CERT_PATH")
	if dir == "" {
		dir = dockerConfigDir()
	}
	return loadTLS(dir, verify)
}

// loadTLS reads ca.pem, cert.pem and key.pem from dir. Missing files are
// allowed except the CA when verify is set.
func loadTLS(dir string, verify bool) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	caPath := filepath.Join(dir, "ca.pem")
	if ca, err := os.ReadFile(caPath); err == nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("TLS: %s holds no PEM certificate", caPath)
		}
		cfg.RootCAs = pool
	} else if verify {
		return nil, fmt.Errorf("TLS: DOCKER_TLS_VERIFY is set but the CA %s cannot be read (%v): set DOCKER_CERT_PATH to the directory with ca.pem, cert.pem and key.pem", caPath, err)
	}
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	switch {
	case certErr == nil && keyErr == nil:
		pair, err := tls.LoadX509KeyPair(certPath, keyPath)
		if err != nil {
			return nil, fmt.Errorf("TLS: load client certificate %s / %s: %v", certPath, keyPath, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	case certErr == nil || keyErr == nil:
		return nil, fmt.Errorf("TLS: %s needs both cert.pem and key.pem", dir)
	}
	cfg.InsecureSkipVerify = !verify //nolint:gosec // DOCKER_TLS without verify, like the CLI
	return cfg, nil
}

func contextID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}

// FoundPrefix starts the From of an endpoint the socket search found.
const FoundPrefix = "found: "

// origin phrases where an endpoint came from for a message: "from
// DOCKER_HOST", "found: ~/.docker/run/docker.sock (Docker Desktop)".
func origin(from string) string {
	if strings.HasPrefix(from, FoundPrefix) {
		return from
	}
	return "from " + from
}
