package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
)

// Keychain finds the credentials for a registry.
//
// Resolve takes a registry host as in a Reference's Domain ("docker.io",
// "localhost:5000") or any form AuthKey accepts, and returns the
// credentials with their Source. No credentials is not an error: it
// returns an anonymous AuthConfig and a Source of kind SourceAnonymous.
type Keychain interface {
	Resolve(ctx context.Context, host string) (AuthConfig, Source, error)
}

// HostLister is implemented by keychains that can tell which registries
// they hold credentials for, so a build can send them all.
type HostLister interface {
	// Hosts returns auth keys (see AuthKey), sorted and without duplicates.
	Hosts(ctx context.Context) ([]string, error)
}

// SourceKind says which mechanism supplied credentials.
type SourceKind string

// Kinds of Source.
const (
	SourceAnonymous   SourceKind = "anonymous"   // no credentials found
	SourceExplicit    SourceKind = "explicit"    // given by the caller (Static, WithAuth)
	SourceAuths       SourceKind = "auths"       // an auths entry of a Docker config
	SourceCredHelpers SourceKind = "credHelpers" // a per-registry credential helper
	SourceCredsStore  SourceKind = "credsStore"  // the default credential helper
)

// Source says where credentials came from, without the credentials, e.g.
// for `berth doctor`.
type Source struct {
	Kind SourceKind
	// Config is where the setting was read: "DOCKER_AUTH_CONFIG" or a
	// config.json path. Empty for explicit and anonymous.
	Config string
	// Helper is the credential helper program, e.g.
	// docker-credential-pass, for SourceCredHelpers and SourceCredsStore.
	Helper string
	// Key is the auth key that was looked up, e.g. HubAuthKey or
	// "localhost:5000".
	Key string
}

// String describes the source, e.g. `config.json auths (/home/u/.docker/config.json)`
// or `credential helper docker-credential-pass (credsStore in /home/u/.docker/config.json)`.
func (s Source) String() string {
	switch s.Kind {
	case SourceAuths:
		if s.Config == EnvAuthConfig {
			return EnvAuthConfig + " auths"
		}
		return "config.json auths (" + s.Config + ")"
	case SourceCredHelpers, SourceCredsStore:
		return fmt.Sprintf("credential helper %s (%s in %s)", s.Helper, s.Kind, s.Config)
	}
	return string(s.Kind)
}

// DefaultKeychain returns the keychain `docker pull` would use. For each
// Resolve it reads, in order:
//
//  1. the DOCKER_AUTH_CONFIG environment variable (config.json content),
//  2. $DOCKER_CONFIG/config.json, default ~/.docker/config.json (see ConfigPath).
//
// In each, credHelpers[host] is asked first, then credsStore, then
// auths[host]; the first that has credentials wins ("credentials not found"
// from a helper moves on). Config keys may be written as URLs
// ("https://host/v1/", "http://host", "host/"). A missing config file is
// no credentials; a broken one is a *ConfigError, a failing or missing
// helper a *HelperError.
func DefaultKeychain() Keychain { return defaultKeychain{} }

type defaultKeychain struct{}

// configs loads the env and file configs, in lookup order.
func (defaultKeychain) configs() ([]*dockerConfig, error) {
	var cfgs []*dockerConfig
	if env := os.Getenv(EnvAuthConfig); env != "" {
		c, err := parseConfig([]byte(env), EnvAuthConfig)
		if err != nil {
			return nil, err
		}
		cfgs = append(cfgs, c)
	}
	c, err := loadConfigFile(ConfigPath())
	if err != nil {
		return nil, err
	}
	return append(cfgs, c), nil
}

func (k defaultKeychain) Resolve(ctx context.Context, host string) (AuthConfig, Source, error) {
	key := AuthKey(host)
	cfgs, err := k.configs()
	if err != nil {
		return AuthConfig{}, Source{}, err
	}
	for _, c := range cfgs {
		a, src, err := c.resolve(ctx, key)
		if err != nil || !a.IsAnonymous() {
			return a, src, err
		}
	}
	return AuthConfig{}, Source{Kind: SourceAnonymous, Key: key}, nil
}

func (c *dockerConfig) resolve(ctx context.Context, key string) (AuthConfig, Source, error) {
	type step struct {
		kind   SourceKind
		helper string
	}
	var steps []step
	if k, ok := lookupKey(c.CredHelpers, key); ok && c.CredHelpers[k] != "" {
		steps = append(steps, step{SourceCredHelpers, c.CredHelpers[k]})
	}
	if c.CredsStore != "" {
		steps = append(steps, step{SourceCredsStore, c.CredsStore})
	}
	for _, s := range steps {
		h := Helper{Name: s.helper}
		a, err := h.Get(ctx, key)
		if errors.Is(err, ErrCredentialsNotFound) {
			continue
		}
		src := Source{Kind: s.kind, Config: c.origin, Helper: h.Program(), Key: key}
		if err != nil {
			return AuthConfig{}, src, fmt.Errorf("%w (configured as %s in %s)", err, s.kind, c.origin)
		}
		if !a.IsAnonymous() {
			return a, src, nil
		}
	}
	if k, ok := lookupKey(c.Auths, key); ok && !c.Auths[k].IsAnonymous() {
		return c.Auths[k], Source{Kind: SourceAuths, Config: c.origin, Key: key}, nil
	}
	return AuthConfig{}, Source{Kind: SourceAnonymous, Key: key}, nil
}

// Hosts lists the registries of auths entries and credHelpers, and those
// the credsStore helper lists, in both configs.
func (k defaultKeychain) Hosts(ctx context.Context) ([]string, error) {
	cfgs, err := k.configs()
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, c := range cfgs {
		for key := range c.Auths {
			set[AuthKey(key)] = true
		}
		for key := range c.CredHelpers {
			set[AuthKey(key)] = true
		}
		if c.CredsStore != "" {
			list, err := Helper{Name: c.CredsStore}.List(ctx)
			if err != nil {
				return nil, fmt.Errorf("%w (configured as credsStore in %s)", err, c.origin)
			}
			for key := range list {
				set[AuthKey(key)] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set)), nil
}

// Static returns a keychain of explicit credentials keyed by registry host
// (any form AuthKey accepts). Their Source is SourceExplicit.
func Static(creds map[string]AuthConfig) Keychain {
	s := make(staticKeychain, len(creds))
	for host, a := range creds {
		s[AuthKey(host)] = a
	}
	return s
}

type staticKeychain map[string]AuthConfig

func (s staticKeychain) Resolve(_ context.Context, host string) (AuthConfig, Source, error) {
	key := AuthKey(host)
	a, ok := s[key]
	if !ok || a.IsAnonymous() {
		return AuthConfig{}, Source{Kind: SourceAnonymous, Key: key}, nil
	}
	d, err := a.decoded()
	if err != nil {
		return AuthConfig{}, Source{}, fmt.Errorf("registry: explicit credentials for %q: %w", key, err)
	}
	if d.ServerAddress == "" {
		d.ServerAddress = key
	}
	return d, Source{Kind: SourceExplicit, Key: key}, nil
}

func (s staticKeychain) Hosts(context.Context) ([]string, error) {
	set := map[string]bool{}
	for k, a := range s {
		if !a.IsAnonymous() {
			set[k] = true
		}
	}
	return slices.Sorted(maps.Keys(set)), nil
}

// Chain returns a keychain that asks each keychain in turn and returns the
// first credentials found. An error stops the search.
func Chain(keychains ...Keychain) Keychain { return chain(keychains) }

type chain []Keychain

func (c chain) Resolve(ctx context.Context, host string) (AuthConfig, Source, error) {
	for _, k := range c {
		a, src, err := k.Resolve(ctx, host)
		if err != nil || !a.IsAnonymous() {
			return a, src, err
		}
	}
	return AuthConfig{}, Source{Kind: SourceAnonymous, Key: AuthKey(host)}, nil
}

// Hosts is the union of the members' hosts (members that are not
// HostListers add none).
func (c chain) Hosts(ctx context.Context) ([]string, error) {
	set := map[string]bool{}
	for _, k := range c {
		l, ok := k.(HostLister)
		if !ok {
			continue
		}
		hosts, err := l.Hosts(ctx)
		if err != nil {
			return nil, err
		}
		for _, h := range hosts {
			set[h] = true
		}
	}
	return slices.Sorted(maps.Keys(set)), nil
}

// WithAuth returns base with explicit credentials for host on top: they win
// over anything base knows for that host. A nil base means
// DefaultKeychain().
func WithAuth(base Keychain, host string, a AuthConfig) Keychain {
	if base == nil {
		base = DefaultKeychain()
	}
	return Chain(Static(map[string]AuthConfig{host: a}), base)
}

// BuildAuthConfigs resolves credentials for each host with kc and returns
// the non-anonymous ones keyed as the engine expects in X-Registry-Config
// (HubAuthKey for Docker Hub, host[:port] otherwise); pass the result to
// EncodeConfigHeader. Hosts may be Reference domains or any form AuthKey
// accepts. To send every credential kc knows, pass the hosts of
// KnownHosts.
func BuildAuthConfigs(ctx context.Context, kc Keychain, hosts []string) (map[string]AuthConfig, error) {
	out := map[string]AuthConfig{}
	for _, h := range hosts {
		key := AuthKey(h)
		if _, done := out[key]; done {
			continue
		}
		a, _, err := kc.Resolve(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("registry: credentials for %q: %w", key, err)
		}
		if a.IsAnonymous() {
			continue
		}
		if a.ServerAddress == "" {
			a.ServerAddress = key
		}
		out[key] = a
	}
	return out, nil
}

// KnownHosts returns the registries kc holds credentials for when it is a
// HostLister, and nil otherwise.
func KnownHosts(ctx context.Context, kc Keychain) ([]string, error) {
	l, ok := kc.(HostLister)
	if !ok {
		return nil, nil
	}
	return l.Hosts(ctx)
}

// LookupOrder says, for messages, where credentials are looked up after
// those a caller gives in code: the same sources, in the same order, as
// `docker pull`.
const LookupOrder = "DOCKER_AUTH_CONFIG, else $DOCKER_CONFIG/config.json (default ~/.docker/config.json): credHelpers, credsStore, auths"

// LoginCommand is the command that stores credentials for host: `docker
// login host`, or `docker login` alone for Docker Hub and an unknown host
// ("").
func LoginCommand(host string) string {
	if host == "" || host == DefaultDomain {
		return "docker login"
	}
	return "docker login " + host
}

// Refusal words, once for pulls and builds alike, what to do when a
// registry refused an image: host is the registry ("" when unknown), sent
// says where the credentials sent came from (SourceAnonymous or the zero
// Source when none were), inCode how the caller gives credentials in code,
// e.g. `Auth(...) on the builder`. It never holds a credential.
func Refusal(host string, sent Source, inCode string) string {
	reg := "the registry"
	if host != "" {
		reg += " " + host
	}
	places := inCode + ", else " + LookupOrder
	if sent.Kind == "" || sent.Kind == SourceAnonymous {
		return fmt.Sprintf("%s refused the pull without credentials: if the name is right and the image is private, log in (%s) or pass %s; credentials are looked up in %s",
			reg, LoginCommand(host), inCode, places)
	}
	from := sent.String()
	if sent.Kind == SourceExplicit {
		from = inCode
	}
	return fmt.Sprintf("%s refused the credentials from %s: check them, or log in again (%s); credentials are looked up in %s",
		reg, from, LoginCommand(host), places)
}
