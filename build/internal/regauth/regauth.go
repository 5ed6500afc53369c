// Package regauth tells a build that a registry refused from the rest,
// for both build backends: whether an engine's error is a registry
// refusing a pull, which registry it was, and whether the build gave it
// credentials and from where (never the credentials themselves).
package regauth

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/registry"
)

// Recorder is a keychain that remembers the registries it was asked about
// and the source of the credentials it gave each, so a refused build can
// say what was sent.
type Recorder struct {
	kc    registry.Keychain
	mu    sync.Mutex
	asked map[string]bool            // display hosts
	sent  map[string]registry.Source // by registry.AuthKey
}

// NewRecorder wraps kc; nil means registry.DefaultKeychain().
func NewRecorder(kc registry.Keychain) *Recorder {
	if kc == nil {
		kc = registry.DefaultKeychain()
	}
	return &Recorder{kc: kc, asked: map[string]bool{}, sent: map[string]registry.Source{}}
}

// Resolve asks the wrapped keychain and records the answer's source.
func (r *Recorder) Resolve(ctx context.Context, host string) (registry.AuthConfig, registry.Source, error) {
	a, src, err := r.kc.Resolve(ctx, host)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked[Host(host)] = true
	if err == nil && !a.IsAnonymous() {
		r.sent[registry.AuthKey(host)] = src
	}
	return a, src, err
}

// Sent returns where the credentials given for host came from; a Source
// of kind SourceAnonymous when none were given.
func (r *Recorder) Sent(host string) registry.Source {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := registry.AuthKey(host)
	if src, ok := r.sent[key]; ok {
		return src
	}
	return registry.Source{Kind: registry.SourceAnonymous, Key: key}
}

// Asked lists the registries the keychain was asked about, sorted.
func (r *Recorder) Asked() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.asked))
}

// Refusal reports whether msg, a failed build's error, is a registry
// refusing a pull, and names that registry: from msg, else from the image
// the failed step names, else the only registry the build asked
// credentials for ("" when none of them tells).
func (r *Recorder) Refusal(msg, step string) (host string, ok bool) {
	if !Refused(msg) {
		return "", false
	}
	if host = Registry(msg, step); host == "" {
		if asked := r.Asked(); len(asked) == 1 {
			host = asked[0]
		}
	}
	return host, true
}

var (
	denied = regexp.MustCompile(`(?i)(^|: )denied: |pull access denied|access to the resource is denied`)
	// A failed RUN quotes its command, which may say anything.
	runFailed = []string{"returned a non-zero code", "did not complete successfully", "executor failed running"}
)

// Refused reports whether msg is a registry refusing a pull: no
// credentials ("no basic auth credentials", "401 Unauthorized"), refused
// ones ("unauthorized: authentication required") or no access ("denied:").
func Refused(msg string) bool {
	m := strings.ToLower(msg)
	for _, s := range runFailed {
		if strings.Contains(m, s) {
			return false
		}
	}
	return wire.IsAuthMessage(msg) || denied.MatchString(msg)
}

var (
	urlHost  = regexp.MustCompile(`https?://([^/\s"']+)/`)
	fromHost = regexp.MustCompile(`(?i)\bfrom host ([^\s/]+)`)
	// Where a step names an image: classic's "Step 1/3 : FROM img",
	// BuildKit's "[internal] load metadata for img", "COPY --from=img",
	// "RUN --mount=from=img".
	stepImage = []*regexp.Regexp{
		regexp.MustCompile(`(?i)(?:^|[\s:\]])FROM\s+(?:--\S+\s+)*([^\s$]+)`),
		regexp.MustCompile(`(?i)load metadata for ([^\s$]+)`),
		regexp.MustCompile(`(?i)--from=([^\s$]+)`),
		regexp.MustCompile(`(?i)[=,]from=([^\s,$]+)`),
	}
)

// Registry names the registry in a failed pull's message (a URL, or
// BuildKit's "pulling from host H"), else of the image the step names.
func Registry(msg, step string) string {
	if m := urlHost.FindStringSubmatch(msg); m != nil {
		return Host(m[1])
	}
	if m := fromHost.FindStringSubmatch(msg); m != nil {
		return Host(m[1])
	}
	for _, re := range stepImage {
		if m := re.FindStringSubmatch(step); m != nil {
			if ref, err := registry.ParseReference(m[1]); err == nil {
				return ref.Domain
			}
		}
	}
	return ""
}

// Host is the registry as a user writes it: docker.io for Docker Hub's
// names, host[:port] otherwise.
func Host(h string) string {
	if k := registry.AuthKey(h); k != registry.HubAuthKey && !strings.EqualFold(k, "auth.docker.io") {
		return k
	}
	return registry.DefaultDomain
}
