package registry

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DefaultDomain is the registry of references that name no host.
const DefaultDomain = "docker.io"

// HubAuthKey is the key under which Docker Hub credentials are stored in
// config.json, handed to credential helpers and sent in X-Registry-Config.
const HubAuthKey = "https://index.docker.io/v1/"

const (
	legacyDefaultDomain = "index.docker.io"
	officialRepoPrefix  = "library/"
	defaultTag          = "latest"
	// maxNameLength bounds the normalised name (domain/path), like
	// docker/distribution's NameTotalLengthMax.
	maxNameLength = 255
	maxTagLength  = 128
)

// ErrInvalidReference is matched (errors.Is) by every *ReferenceError.
var ErrInvalidReference = errors.New("invalid image reference")

// ReferenceError says which part of an image reference is wrong and why.
type ReferenceError struct {
	// Input is the reference as given.
	Input string
	// Part is the offending part: "reference", "domain", "path", "name",
	// "tag" or "digest".
	Part string
	// Reason says what is wrong with the part and what is expected.
	Reason string
}

func (e *ReferenceError) Error() string {
	in := e.Input
	if len(in) > 300 {
		in = in[:300] + "..."
	}
	return fmt.Sprintf("invalid image reference %q: %s %s", in, e.Part, e.Reason)
}

// Is makes every ReferenceError match ErrInvalidReference.
func (e *ReferenceError) Is(target error) bool { return target == ErrInvalidReference }

// Reference is a parsed, normalised image reference such as
// docker.io/library/redis:7 or localhost:5000/app@sha256:….
//
// The zero Reference is not valid; obtain one from ParseReference.
type Reference struct {
	// Domain is the registry host with an optional port, e.g. "docker.io",
	// "localhost:5000", "[::1]:5000".
	Domain string
	// Path is the repository path inside the registry, e.g. "library/redis".
	Path string
	// Tag is the tag; "latest" when the input had neither tag nor digest,
	// empty when it had only a digest.
	Tag string
	// Digest is the content digest such as "sha256:…", or empty.
	Digest string
}

// ParseReference parses an image reference as the docker CLI does and
// normalises it: "redis" becomes docker.io/library/redis:latest, "user/app"
// docker.io/user/app:latest; a reference with only a digest gets no tag.
//
// The first path component is a registry host when it contains "." or ":",
// is "localhost", or has upper-case letters (as in docker/distribution).
// Repository paths must be lower case. Errors are *ReferenceError values
// matching ErrInvalidReference.
func ParseReference(s string) (Reference, error) {
	fail := func(part, reason string) (Reference, error) {
		return Reference{}, &ReferenceError{Input: s, Part: part, Reason: reason}
	}
	if s == "" {
		return fail("reference", "is empty: give an image such as redis:7 or localhost:5000/app:1")
	}
	if isHex64(s) {
		return fail("reference", "is a 64-character hex string, which the engine takes for an image ID: use a repository name")
	}

	var ref Reference
	rest := s
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		rest, ref.Digest = rest[:i], rest[i+1:]
		if reason := digestProblem(ref.Digest); reason != "" {
			return fail("digest", reason)
		}
	}
	lastSlash := strings.LastIndexByte(rest, '/')
	if i := strings.LastIndexByte(rest, ':'); i > lastSlash {
		rest, ref.Tag = rest[:i], rest[i+1:]
		if reason := tagProblem(ref.Tag); reason != "" {
			return fail("tag", reason)
		}
	}
	if rest == "" {
		return fail("name", "is empty: a repository name is required before the tag or digest")
	}

	domain, path := splitDomain(rest)
	if domain != "" {
		if reason := domainProblem(domain); reason != "" {
			return fail("domain", reason)
		}
	}
	if domain == "" || domain == legacyDefaultDomain {
		domain = DefaultDomain
	}
	if domain == DefaultDomain && !strings.Contains(path, "/") {
		path = officialRepoPrefix + path
	}
	if strings.ToLower(path) != path {
		return fail("path", fmt.Sprintf("%s must be lowercase (repository names cannot contain upper-case letters)", quote(path)))
	}
	if reason := pathProblem(path); reason != "" {
		return fail("path", reason)
	}
	ref.Domain, ref.Path = domain, path
	if n := len(ref.Name()); n > maxNameLength {
		return fail("name", fmt.Sprintf("%s is %d characters long; at most %d are allowed", quote(ref.Name()), n, maxNameLength))
	}
	if ref.Tag == "" && ref.Digest == "" {
		ref.Tag = defaultTag
	}
	return ref, nil
}

// splitDomain separates a leading registry host the way docker/distribution
// does. It returns an empty domain when the name has none.
func splitDomain(name string) (domain, path string) {
	first, rest, found := strings.Cut(name, "/")
	if !found {
		return "", name
	}
	if strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first {
		return first, rest
	}
	return "", name
}

// Name returns the repository name with its domain, e.g.
// docker.io/library/redis.
func (r Reference) Name() string { return r.Domain + "/" + r.Path }

// String returns the normalised reference:
// domain/path[:tag][@digest]. ParseReference(r.String()) returns r.
func (r Reference) String() string { return r.Name() + r.suffix() }

// Familiar returns the short form the docker CLI prints: Docker Hub's domain
// and the "library/" prefix of official images are left out, so
// docker.io/library/redis:latest becomes redis:latest. Unlike the CLI it
// keeps the domain when the short form would read back as another registry
// (docker.io/localhost/app), so ParseReference(r.Familiar()) returns r.
func (r Reference) Familiar() string {
	name := r.Name()
	if r.Domain == DefaultDomain {
		short := r.Path
		if rest, ok := strings.CutPrefix(short, officialRepoPrefix); ok && !strings.Contains(rest, "/") {
			short = rest
		}
		// A path such as "localhost/app" or "a.b/app" would read back as a
		// host, so it keeps its domain.
		if d, _ := splitDomain(short); d == "" {
			name = short
		}
	}
	return name + r.suffix()
}

// AuthKey returns the key under which credentials for r's registry are
// stored; see AuthKey.
func (r Reference) AuthKey() string { return AuthKey(r.Domain) }

func (r Reference) suffix() string {
	s := ""
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// AuthKey returns the credential key the docker CLI uses for a registry:
// HubAuthKey for Docker Hub (docker.io, index.docker.io,
// registry-1.docker.io, or an empty host) and host[:port] for any other
// registry. The host may also be written as a URL or config key such as
// "https://host:5000/v1/", "http://host" or "host/".
func AuthKey(host string) string {
	h := host
	if rest, ok := strings.CutPrefix(h, "https://"); ok {
		h = rest
	} else if rest, ok := strings.CutPrefix(h, "http://"); ok {
		h = rest
	}
	h, _, _ = strings.Cut(h, "/")
	switch strings.ToLower(h) {
	case "", DefaultDomain, legacyDefaultDomain, "registry-1.docker.io":
		return HubAuthKey
	}
	return h
}

// quote quotes s for a message, shortening it when long.
func quote(s string) string {
	const maxLen = 80
	if len(s) > maxLen {
		return strconv.Quote(s[:maxLen]) + "..."
	}
	return strconv.Quote(s)
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerHex(s[i]) {
			return false
		}
	}
	return true
}

func isLowerHex(c byte) bool   { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }
func isAlnumLower(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' }
func isAlnum(c byte) bool      { return isAlnumLower(c) || c >= 'A' && c <= 'Z' }
func isWord(c byte) bool       { return isAlnum(c) || c == '_' }

// tagProblem checks [\w][\w.-]{0,127}.
func tagProblem(tag string) string {
	const want = "must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"
	if tag == "" {
		return "is empty: drop the ':' or give a tag such as :latest"
	}
	if len(tag) > maxTagLength {
		return fmt.Sprintf("is %d characters long: it %s", len(tag), want)
	}
	if !isWord(tag[0]) {
		return fmt.Sprintf("%s %s", quote(tag), want)
	}
	for i := 1; i < len(tag); i++ {
		if c := tag[i]; !isWord(c) && c != '.' && c != '-' {
			return fmt.Sprintf("%s %s", quote(tag), want)
		}
	}
	return ""
}

// digestHexLengths are the algorithms the engine accepts, with the length
// of their hex encoding.
var digestHexLengths = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}

func digestProblem(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || alg == "" || hex == "" {
		return fmt.Sprintf("%s must be algorithm:hex, e.g. sha256: followed by 64 hex digits", quote(d))
	}
	n, known := digestHexLengths[alg]
	if !known {
		return fmt.Sprintf("algorithm %s is not supported: use sha256, sha384 or sha512", quote(alg))
	}
	if len(hex) != n {
		return fmt.Sprintf("%s must have %d hex digits after %s:, it has %d", quote(d), n, alg, len(hex))
	}
	for i := 0; i < len(hex); i++ {
		if !isLowerHex(hex[i]) {
			return fmt.Sprintf("%s must have only lower-case hex digits (0-9, a-f) after %s:", quote(d), alg)
		}
	}
	return ""
}

// domainProblem checks host[:port], where host is a DNS name, an IPv4
// address or a bracketed IPv6 address.
func domainProblem(domain string) string {
	host, port := domain, ""
	if strings.HasPrefix(domain, "[") {
		end := strings.IndexByte(domain, ']')
		if end < 0 {
			return fmt.Sprintf("%s has an unclosed '[' around its IPv6 address", quote(domain))
		}
		host, port = domain[:end+1], domain[end+1:]
		inner := host[1:end]
		if inner == "" {
			return fmt.Sprintf("%s has an empty IPv6 address", quote(domain))
		}
		for i := 0; i < len(inner); i++ {
			if c := inner[i]; !isLowerHex(c) && !(c >= 'A' && c <= 'F') && c != ':' {
				return fmt.Sprintf("%s has an invalid IPv6 address: only hex digits and ':' are allowed inside [ ]", quote(domain))
			}
		}
		if port != "" && port[0] != ':' {
			return fmt.Sprintf("%s must have ':port' after the IPv6 address", quote(domain))
		}
	} else if i := strings.IndexByte(domain, ':'); i >= 0 {
		host, port = domain[:i], domain[i:]
	}
	if port != "" {
		digits := port[1:]
		if digits == "" {
			return fmt.Sprintf("%s has an empty port after ':'", quote(domain))
		}
		for i := 0; i < len(digits); i++ {
			if digits[i] < '0' || digits[i] > '9' {
				return fmt.Sprintf("%s has an invalid port %s: use digits only", quote(domain), quote(digits))
			}
		}
	}
	if strings.HasPrefix(host, "[") {
		return ""
	}
	if host == "" {
		return fmt.Sprintf("%s has an empty host name", quote(domain))
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Sprintf("%s is not a valid host name: labels between dots must be non-empty letters, digits and '-', not starting or ending with '-'", quote(domain))
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlnum(c) && c != '-' {
				return fmt.Sprintf("%s is not a valid host name: labels between dots must be non-empty letters, digits and '-', not starting or ending with '-'", quote(domain))
			}
		}
	}
	return ""
}

// pathProblem checks components [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* joined by
// "/"; path is known to be lower case.
func pathProblem(path string) string {
	for _, comp := range strings.Split(path, "/") {
		if comp == "" {
			return fmt.Sprintf("%s has an empty component: remove the extra '/'", quote(path))
		}
		if reason := componentProblem(comp); reason != "" {
			return fmt.Sprintf("component %s %s", quote(comp), reason)
		}
	}
	return ""
}

func componentProblem(comp string) string {
	const want = "must be lowercase letters and digits, separated by '.', '_', '__' or dashes, starting and ending with a letter or digit"
	if !isAlnumLower(comp[0]) || !isAlnumLower(comp[len(comp)-1]) {
		return want
	}
	for i := 0; i < len(comp); {
		c := comp[i]
		switch {
		case isAlnumLower(c):
			i++
		case c == '.':
			i++
			if !isAlnumLower(comp[i]) {
				return want
			}
		case c == '_':
			i++
			if comp[i] == '_' {
				i++
			}
			if !isAlnumLower(comp[i]) {
				return want
			}
		case c == '-':
			for comp[i] == '-' {
				i++
			}
			if !isAlnumLower(comp[i]) {
				return want
			}
		default:
			return want
		}
	}
	return ""
}
