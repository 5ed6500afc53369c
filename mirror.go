package berth

import (
	"fmt"
	"os"
	"strings"

	"github.com/berth-go/berth/registry"
)

// A mirror rule sends the images of one registry to another place: a
// corporate proxy of Docker Hub, a mirror prefix. Containers and modules
// start the rewritten reference, and credentials are looked up for the
// registry it names.
type mirrorRule struct {
	registry string // docker.io, ghcr.io, or "*" for every registry
	prefix   string // host[:port][/path] the repository path is put under
}

// WithImageMirror sends images of registry ("docker.io", "ghcr.io"; "*"
// for all) to prefix: with WithImageMirror("docker.io",
// "mirror.corp/hub"), "postgres:15" starts as
// "mirror.corp/hub/library/postgres:15". BERTH_IMAGE_MIRROR sets rules
// too ("docker.io=mirror.corp/hub,ghcr.io=mirror.corp/ghcr"), as does
// testcontainers' TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX for Docker Hub.
// Options win over the environment; image IDs are never rewritten.
func WithImageMirror(registry, prefix string) Option {
	return func(c *sessionConfig) {
		c.mirrors = append(c.mirrors, mirrorRule{registry: registry, prefix: strings.TrimSuffix(prefix, "/")})
	}
}

// mirrorsFromEnv reads BERTH_IMAGE_MIRROR and
// TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX.
func mirrorsFromEnv() ([]mirrorRule, error) {
	var rules []mirrorRule
	if v := os.Getenv("BERTH_IMAGE_MIRROR"); v != "" {
		for _, r := range strings.Split(v, ",") {
			reg, prefix, ok := strings.Cut(strings.TrimSpace(r), "=")
			if !ok || reg == "" || prefix == "" {
				return nil, fmt.Errorf("BERTH_IMAGE_MIRROR: %q is not REGISTRY=PREFIX (e.g. docker.io=mirror.corp/hub)", r)
			}
			rules = append(rules, mirrorRule{registry: reg, prefix: strings.TrimSuffix(prefix, "/")})
		}
	}
	if p := os.Getenv("TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX"); p != "" {
		rules = append(rules, mirrorRule{registry: registry.DefaultDomain, prefix: strings.TrimSuffix(p, "/")})
	}
	return rules, nil
}

// mirrored is ref as the mirror rules send it; ref itself when no rule
// applies, when it is an image ID, or when it cannot be parsed (the
// builder reports that).
func mirrored(rules []mirrorRule, ref string) string {
	if len(rules) == 0 || strings.HasPrefix(ref, "sha256:") {
		return ref
	}
	r, err := registry.ParseReference(ref)
	if err != nil {
		return ref
	}
	for _, rule := range rules {
		if rule.registry != "*" && registry.AuthKey(rule.registry) != r.AuthKey() {
			continue
		}
		if strings.HasPrefix(r.Name(), rule.prefix+"/") {
			return ref // already there
		}
		return rule.prefix + "/" + r.Path + strings.TrimPrefix(r.String(), r.Name())
	}
	return ref
}
