package buildkit

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/berth-go/berth/build"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/link"
	"github.com/berth-go/berth/internal/wire"
)

// modernAPI is the Engine API of Docker 23, whose built-in Dockerfile
// frontend (1.5) knows named contexts and shm-size.
const modernAPI = "1.42"

// namedContextImages stands in for named contexts on engines whose
// Dockerfile frontend predates them: each directory becomes a scratch
// image holding its files, and the Dockerfile's references to the name
// (FROM name, COPY --from=name, RUN --mount=from=name) point at that
// image instead. It returns the rewritten Dockerfile and the stand-in
// images, to show as their names in the build log and to remove after the
// build.
func namedContextImages(ctx context.Context, c *wire.Client, df []byte, o build.Options) ([]byte, standIns, error) {
	names := slices.Sorted(maps.Keys(o.BuildContexts))
	var refs standIns
	for _, name := range names {
		res, err := build.Build(ctx, link.Wrap(c).(*engine.Client), build.DirContext(o.BuildContexts[name]).WithDockerfileContent([]byte("FROM scratch\nCOPY . /\n")),
			build.Options{Keychain: o.Keychain, Labels: map[string]string{"berth.context": name}})
		if err != nil {
			return nil, refs, fmt.Errorf("named context %q: %w", name, err)
		}
		refs = append(refs, newStandIn(res.Ref, name))
		df = replaceContextRef(df, name, res.Ref)
	}
	return df, refs, nil
}

// standIn is an image that stands in for a named context.
type standIn struct {
	ref, name string
	// shown matches ref as BuildKit prints it: normalised
	// (docker.io/...), sometimes with the image's digest.
	shown *regexp.Regexp
}

func newStandIn(ref, name string) standIn {
	return standIn{ref: ref, name: name, shown: regexp.MustCompile(`(?:docker\.io/)?` + regexp.QuoteMeta(ref) + `(?:@sha256:[0-9a-f]{64})?`)}
}

// standIns are a build's stand-in images.
type standIns []standIn

// restore puts the context names back where a build log line or error
// shows a stand-in image, so the log reads like the Dockerfile the user
// wrote: `COPY --from=shared`, not `COPY --from=berth-cache/build:...`.
func (s standIns) restore(text string) string {
	for _, si := range s {
		if strings.Contains(text, si.ref) {
			text = si.shown.ReplaceAllLiteralString(text, si.name)
		}
	}
	return text
}

// replaceContextRef points the Dockerfile's references to name at ref:
// `FROM name`, `--from=name` and `from=name` inside a --mount.
func replaceContextRef(df []byte, name, ref string) []byte {
	q := regexp.QuoteMeta(name)
	from := regexp.MustCompile(`(?im)^(\s*FROM\s+(?:--\S+\s+)*)` + q + `(\s|$)`)
	df = from.ReplaceAll(df, []byte("${1}"+ref+"${2}"))
	copyFrom := regexp.MustCompile(`(?i)(\s--from=)` + q + `(\s|$)`)
	df = copyFrom.ReplaceAll(df, []byte("${1}"+ref+"${2}"))
	mountFrom := regexp.MustCompile(`(?i)([=,]from=)` + q + `(,|$)`)
	return regexp.MustCompile(`--mount=\S+`).ReplaceAllFunc(df, func(tok []byte) []byte {
		return mountFrom.ReplaceAll(tok, []byte("${1}"+ref+"${2}"))
	})
}

// stageNames are the Dockerfile's `FROM ... AS name` stages, lower-cased.
func stageNames(df []byte) map[string]bool {
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?im)^\s*FROM\s+.*\s+AS\s+(\S+)\s*$`).FindAllSubmatch(df, -1) {
		out[strings.ToLower(string(m[1]))] = true
	}
	return out
}
