package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/berth-go/berth/build/internal/regauth"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/link"
	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/registry"
)

// Backend makes an image from a context.
type Backend interface {
	// Name is "classic" or "buildkit".
	Name() string
	// Build returns the built image's ID.
	Build(ctx context.Context, c *engine.Client, bc *Context, o Options) (string, error)
}

// Classic is the engine's classic builder, POST /build. A build the
// builder failed because its cache lookup met an image another client was
// removing (wire.IsBuildCacheRace: dockerd's `unable to find image
// "sha256:..."` or `No such image`, Podman's "checking if cached image
// exists ... not known") runs again, up to three times in all; the build
// log says so.
var Classic Backend = classic{}

type classic struct{}

func (classic) Name() string { return "classic" }

var mountFlag = regexp.MustCompile(`(?im)^\s*RUN\s+(--[a-z-]+=\S+\s+)*--mount=`)

// classicUnsupported names the first BuildKit-only feature a build uses.
func classicUnsupported(bc *Context, o Options) string {
	switch {
	case len(o.Secrets) > 0:
		return "build secrets"
	case len(o.SSH) > 0:
		return "ssh forwarding"
	case o.CacheFrom != "" || o.CacheTo != "":
		return "cache import/export"
	case len(o.BuildContexts) > 0:
		return "named build contexts"
	}
	if df, err := bc.Dockerfile(); err == nil && mountFlag.Match(df) {
		return "RUN --mount (cache, secret or ssh mounts)"
	}
	return ""
}

func (classic) Build(ctx context.Context, ec *engine.Client, bc *Context, o Options) (string, error) {
	c := link.Wire(ec)
	if what := classicUnsupported(bc, o); what != "" {
		return "", &Error{Backend: "classic", Err: fmt.Errorf("%s %w; the classic builder is in use (the engine offers no BuildKit, BERTH_BUILDER=classic is set, or build/buildkit is not imported)", what, ErrNeedsBuildKit)}
	}
	if err := bc.Validate(); err != nil {
		return "", err
	}
	q := url.Values{"rm": {"1"}, "forcerm": {"1"}, "dockerfile": {bc.DockerfileName()}}
	for _, t := range o.Tags {
		q.Add("t", t)
	}
	if o.Target != "" {
		q.Set("target", o.Target)
	}
	if len(o.Args) > 0 {
		b, _ := json.Marshal(o.Args)
		q.Set("buildargs", string(b))
	}
	if len(o.Labels) > 0 {
		b, _ := json.Marshal(o.Labels)
		q.Set("labels", string(b))
	}
	if o.NoCache {
		q.Set("nocache", "1")
	}
	if o.Pull {
		q.Set("pull", "1")
	}
	if o.Platform != "" {
		q.Set("platform", o.Platform)
	}
	if o.Network != "" {
		q.Set("networkmode", o.Network)
	}
	if len(o.ExtraHosts) > 0 {
		q.Set("extrahosts", strings.Join(o.ExtraHosts, ","))
	}
	if o.ShmSize > 0 {
		q.Set("shmsize", strconv.FormatInt(o.ShmSize, 10))
	}
	rec := regauth.NewRecorder(o.Keychain)
	configHeader, err := registryConfig(ctx, c, bc, rec, o.Pull)
	if err != nil {
		return "", &Error{Backend: "classic", Step: "credentials", Err: err}
	}
	log := &tail{n: 30, out: o.Output}
	var id, step string
	for attempt := 1; ; attempt++ {
		id, step = "", ""
		body := bc.Reader(ctx, true)
		err = c.ImageBuild(ctx, body, q, configHeader, func(m wire.JSONMessage) error {
			if m.Stream != "" {
				if l := strings.TrimSpace(m.Stream); stepLine.MatchString(l) {
					step = l
				}
				log.Write([]byte(m.Stream))
			} else if m.Status != "" {
				log.Write([]byte(m.Status + "\n"))
			}
			if len(m.Aux) > 0 {
				var aux struct{ ID string }
				if wire.DecodeAux(m, &aux) == nil && aux.ID != "" {
					id = aux.ID
				}
			}
			return nil
		})
		body.Close()
		if err == nil || attempt == cacheRaceAttempts || !wire.IsBuildCacheRace(err) || ctx.Err() != nil {
			break
		}
		fmt.Fprintf(log, "berth: the engine lost a sibling image while looking up its build cache (another build's image was removed at that moment): building again (%d/%d)\n", attempt+1, cacheRaceAttempts)
		select { // let the removal that raced it finish
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
		}
	}
	if err != nil {
		return "", &Error{Backend: "classic", Step: step, Log: log.Lines(), Err: refused(explainClassic(err, bc), step, rec)}
	}
	if id == "" {
		return "", &Error{Backend: "classic", Step: step, Log: log.Lines(), Err: fmt.Errorf("the engine reported no image ID")}
	}
	return id, nil
}

// cacheRaceAttempts bounds the runs of a build that failed on the
// builder's cache-lookup race (wire.IsBuildCacheRace).
const cacheRaceAttempts = 3

// stepLine is a step's first log line: "Step 2/4 : RUN ..." on dockerd,
// "STEP 2/4: RUN ..." (after a "[1/2] " stage) on Podman.
var stepLine = regexp.MustCompile(`(?i)^(\[\d+/\d+\] )?step \d+/\d+ ?:`)

var (
	exitStatus   = regexp.MustCompile(`(?:non-zero code: |exit status )(\d+)`)
	unknownInstr = regexp.MustCompile(`(?i)unknown instruction: "?([a-z]+)`)
)

// explainClassic words the engines' build errors alike: the exit code of a
// failed RUN as "exit code: N", and the Dockerfile line of an unknown
// instruction when the engine does not say it (Podman).
func explainClassic(err error, bc *Context) error {
	msg := err.Error()
	if i := strings.Index(msg, " &imagebuilder."); i >= 0 {
		err = errors.New(strings.TrimSpace(msg[:i])) // Podman appends a Go value dump
		msg = err.Error()
	}
	if m := exitStatus.FindStringSubmatch(msg); m != nil && !strings.Contains(msg, "exit code:") {
		err = fmt.Errorf("%w (exit code: %s)", err, m[1])
	}
	if m := unknownInstr.FindStringSubmatch(msg); m != nil && !strings.Contains(strings.ToLower(msg), "line ") {
		if df, derr := bc.Dockerfile(); derr == nil {
			for n, l := range strings.Split(string(df), "\n") {
				if f := strings.Fields(l); len(f) > 0 && strings.EqualFold(f[0], m[1]) {
					err = fmt.Errorf("%w (Dockerfile line %d)", err, n+1)
					break
				}
			}
		}
	}
	return err
}

// copyFrom is a `COPY --from=` of an image, a stage or a stage's index.
var copyFrom = regexp.MustCompile(`(?im)^\s*COPY\s+(?:--\S+\s+)*?--from=(\S+)`)

// fromHosts lists the registries of the images the Dockerfile pulls: its
// FROM images and those of COPY --from, but for those local says the
// engine has (the build will not pull them, so no credential helper is
// asked: one may prompt, or be slow).
func fromHosts(df []byte, local func(image string) bool) []string {
	seen := map[string]bool{}
	var hosts []string
	imgs, stages := fromLines(df)
	for _, m := range copyFrom.FindAllSubmatch(df, -1) {
		img := string(m[1])
		if _, err := strconv.Atoi(img); err != nil && !stages[strings.ToLower(img)] {
			imgs = append(imgs, img)
		}
	}
	for _, img := range imgs {
		if strings.Contains(img, "$") {
			continue
		}
		r, err := registry.ParseReference(img)
		if err != nil || seen[r.Domain] || local(img) {
			continue
		}
		seen[r.Domain] = true
		hosts = append(hosts, r.Domain)
	}
	return hosts
}

// registryConfig is the X-Registry-Config header: credentials for every
// registry the Dockerfile pulls from (FROM, COPY --from, of images the
// engine lacks unless pull is set), looked up through kc, which remembers
// what it gave.
func registryConfig(ctx context.Context, c *wire.Client, bc *Context, kc *regauth.Recorder, pull bool) (string, error) {
	df, err := bc.Dockerfile()
	if err != nil {
		return "", err
	}
	hosts := fromHosts(df, func(img string) bool {
		if pull {
			return false
		}
		_, err := c.ImageInspect(ctx, img)
		return err == nil
	})
	if len(hosts) == 0 {
		return "", nil
	}
	auths, err := registry.BuildAuthConfigs(ctx, kc, hosts)
	if err != nil || len(auths) == 0 {
		return "", err
	}
	return registry.EncodeConfigHeader(auths)
}
