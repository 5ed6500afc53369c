package berth

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/berth-go/berth/build"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/registry"
)

// BuildBuilder describes an image build fluently. Each method records the
// first bad input; Image reports it naming the call, ImageE returns it.
type BuildBuilder struct {
	s     *scope
	bc    *build.Context
	opts  build.Options
	auths map[string]registry.AuthConfig // by registry host
	keep  bool
	err   error
}

// Build starts describing an image built from the directory dir (its
// Dockerfile and .dockerignore).
func (s *scope) Build(dir string) *BuildBuilder {
	b := &BuildBuilder{s: s, bc: build.DirContext(dir)}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		b.err = fmt.Errorf("Build(%q): %w: give the directory that holds the Dockerfile", dir, build.ErrContextNotFound)
	}
	return b
}

// BuildFiles starts describing an image built from in-memory files
// (slash-separated paths → content), one of them the Dockerfile unless
// DockerfileContent gives it.
func (s *scope) BuildFiles(files map[string][]byte) *BuildBuilder {
	return &BuildBuilder{s: s, bc: build.FilesContext(files)}
}

func (b *BuildBuilder) fail(call string, err error) *BuildBuilder {
	if b.err == nil {
		b.err = fmt.Errorf("%s: %w", call, err)
	}
	return b
}

// Dockerfile names the Dockerfile inside the context.
func (b *BuildBuilder) Dockerfile(name string) *BuildBuilder { b.bc.WithDockerfile(name); return b }

// DockerfileContent uses content as the Dockerfile.
func (b *BuildBuilder) DockerfileContent(content string) *BuildBuilder {
	b.bc.WithDockerfileContent([]byte(content))
	return b
}

// Arg sets a build argument.
func (b *BuildBuilder) Arg(key, value string) *BuildBuilder {
	setEntry(&b.opts.Args, key, value)
	return b
}

// Target builds the named stage.
func (b *BuildBuilder) Target(stage string) *BuildBuilder { b.opts.Target = stage; return b }

// Label labels the image.
func (b *BuildBuilder) Label(key, value string) *BuildBuilder {
	setEntry(&b.opts.Labels, key, value)
	return b
}

// Tag adds a reference to the image (removed at cleanup unless Keep).
func (b *BuildBuilder) Tag(ref string) *BuildBuilder {
	b.opts.Tags = append(b.opts.Tags, ref)
	return b
}

// NoCache builds from scratch: no builder cache, no reuse of an earlier
// identical build.
func (b *BuildBuilder) NoCache() *BuildBuilder { b.opts.NoCache = true; return b }

// Pull pulls newer versions of the base images.
func (b *BuildBuilder) Pull() *BuildBuilder { b.opts.Pull = true; return b }

// Platform builds for a platform such as linux/amd64.
func (b *BuildBuilder) Platform(p string) *BuildBuilder { b.opts.Platform = p; return b }

// Network sets the network mode of RUN steps.
func (b *BuildBuilder) Network(mode string) *BuildBuilder { b.opts.Network = mode; return b }

// ExtraHost adds host:ip to /etc/hosts of RUN steps.
func (b *BuildBuilder) ExtraHost(host, ip string) *BuildBuilder {
	b.opts.ExtraHosts = append(b.opts.ExtraHosts, host+":"+ip)
	return b
}

// ShmSize sets /dev/shm of RUN steps in bytes.
func (b *BuildBuilder) ShmSize(bytes int64) *BuildBuilder { b.opts.ShmSize = bytes; return b }

// Secret makes the file's content available to `RUN --mount=type=secret,id=id`
// (BuildKit). It never ends up in the image.
//
// Only the secret's id goes into the input hash by which berth reuses an
// earlier identical build, never its value or file: adding, removing or
// renaming a secret builds again, while a build whose secret only changed
// its value reuses the earlier image. The builder's layer cache works the
// same way, as Docker's does: a step that used a secret is reused
// whatever the value, even when the secret is now missing. Use NoCache,
// or an Arg that changes with the value (a version, never the secret
// itself), to run such steps with a new value.
func (b *BuildBuilder) Secret(id, file string) *BuildBuilder {
	if _, err := os.Stat(file); err != nil {
		return b.fail("Secret", fmt.Errorf("secret %q: the file %s does not exist", id, file))
	}
	return b.secret(id, build.Secret{File: file})
}

// SecretEnv makes an environment variable's value a build secret, like
// Secret: its id is hashed, its value is not, so a changed value alone
// does not build again (use NoCache or an Arg).
func (b *BuildBuilder) SecretEnv(id, env string) *BuildBuilder {
	if _, ok := os.LookupEnv(env); !ok {
		return b.fail("SecretEnv", fmt.Errorf("secret %q: the environment variable %s is not set", id, env))
	}
	return b.secret(id, build.Secret{Env: env})
}

func (b *BuildBuilder) secret(id string, s build.Secret) *BuildBuilder {
	if b.opts.Secrets == nil {
		b.opts.Secrets = map[string]build.Secret{}
	}
	b.opts.Secrets[id] = s
	return b
}

// SSH forwards an ssh agent socket or key files to
// `RUN --mount=type=ssh,id=id` (BuildKit); none means $SSH_AUTH_SOCK.
//
// As with Secret, the id is part of the input hash and the keys are not:
// neither the paths nor the keys' content nor what an agent holds. A
// build that only changed keys reuses the earlier image (use NoCache or
// an Arg).
func (b *BuildBuilder) SSH(id string, socketOrKeys ...string) *BuildBuilder {
	if b.opts.SSH == nil {
		b.opts.SSH = map[string][]string{}
	}
	b.opts.SSH[id] = socketOrKeys
	return b
}

// CacheFrom imports build cache from a local directory (BuildKit) that
// CacheTo filled, for a build whose builder cache is empty (a fresh CI
// machine, after `docker builder prune`). When the image the directory
// holds is still in the engine, nothing is loaded; else loading it costs
// the engine about as much as loading the image (`docker load`). An empty
// or missing directory is a first build, not an error.
func (b *BuildBuilder) CacheFrom(dir string) *BuildBuilder { b.opts.CacheFrom = dir; return b }

// CacheTo exports build cache to a local directory (BuildKit): the image
// with its cache metadata, saved as berth-cache.tar beside an index. A
// rebuild that produced the image the directory holds already writes
// nothing. Give CacheFrom and CacheTo the same directory to carry the cache
// from run to run.
func (b *BuildBuilder) CacheTo(dir string) *BuildBuilder { b.opts.CacheTo = dir; return b }

// BuildContext adds a named context (`COPY --from=name`) from a directory
// (BuildKit).
func (b *BuildBuilder) BuildContext(name, dir string) *BuildBuilder {
	setEntry(&b.opts.BuildContexts, name, dir)
	return b
}

// ExportDocker also writes the image to path in the format `docker save`
// writes, which `docker load` (POST /images/load) reads back under the
// build's tags. Path names a tar file whose directory must exist (it is
// not created) and be writable; a missing one fails before anything is
// built (build.ErrExport). An existing file is replaced.
func (b *BuildBuilder) ExportDocker(path string) *BuildBuilder {
	b.opts.Exports = append(b.opts.Exports, build.Export{Format: build.FormatDocker, Path: path})
	return b
}

// ExportOCI also writes the image to path as an OCI image layout in a tar
// file. Annotation adds to its manifest; OCIMediaTypes(false) writes
// Docker's media types instead. As with ExportDocker, the directory of
// path must exist (it is not created) and be writable; a missing one fails
// before anything is built (build.ErrExport).
func (b *BuildBuilder) ExportOCI(path string) *BuildBuilder {
	b.opts.Exports = append(b.opts.Exports, build.Export{Format: build.FormatOCI, Path: path})
	return b
}

// lastOCI is the export the OCI-only settings apply to.
func (b *BuildBuilder) lastOCI(call string) *build.Export {
	for i := len(b.opts.Exports) - 1; i >= 0; i-- {
		if b.opts.Exports[i].Format == build.FormatOCI {
			return &b.opts.Exports[i]
		}
	}
	b.fail(call, fmt.Errorf("%w: call ExportOCI first", build.ErrExport))
	return nil
}

// Annotation annotates the manifest of the last ExportOCI.
func (b *BuildBuilder) Annotation(key, value string) *BuildBuilder {
	if e := b.lastOCI("Annotation"); e != nil {
		setEntry(&e.Annotations, key, value)
	}
	return b
}

// OCIMediaTypes chooses OCI's media types (the default) or Docker's for
// the last ExportOCI.
func (b *BuildBuilder) OCIMediaTypes(oci bool) *BuildBuilder {
	if e := b.lastOCI("OCIMediaTypes"); e != nil {
		e.DockerMediaTypes = !oci
	}
	return b
}

// Auth builds with these credentials for the registry host (as in an image
// reference: "registry.example.com:5000", "docker.io") instead of what the
// user's Docker configuration holds for it: for base images and any other
// image the build pulls. A registry that refuses them fails the build with
// a *build.AuthError naming the registry, never the credentials.
func (b *BuildBuilder) Auth(host string, a registry.AuthConfig) *BuildBuilder {
	if host == "" {
		return b.fail("Auth", fmt.Errorf("give the registry host, e.g. %q", "localhost:5000"))
	}
	if b.auths == nil {
		b.auths = map[string]registry.AuthConfig{}
	}
	b.auths[host] = a
	return b
}

// Output receives the build log as it happens.
func (b *BuildBuilder) Output(w io.Writer) *BuildBuilder { b.opts.Output = w; return b }

// Keep leaves the image's tags after the test; the image itself always
// stays as berth's build cache (berth prune --cache removes it).
func (b *BuildBuilder) Keep() *BuildBuilder { b.keep = true; return b }

// ImageE builds the image and returns its ID.
func (b *BuildBuilder) ImageE(ctx context.Context) (string, error) {
	if b.err != nil {
		return "", b.err
	}
	done, err := b.s.enter(ctx)
	if err != nil {
		return "", err
	}
	defer done()
	o := b.opts
	o.TempDir = b.s.session.tmp
	o.Keychain = b.s.session.keychain
	if len(b.auths) > 0 {
		o.Keychain = registry.Chain(registry.Static(b.auths), o.Keychain)
	}
	res, err := build.Build(ctx, b.s.client(), b.bc, o)
	if err != nil {
		return "", err
	}
	if !b.keep {
		for _, t := range b.opts.Tags {
			b.s.add(resource{kind: engine.KindImage, id: t})
		}
	}
	return res.ImageID, nil
}

// Image builds the image and returns its ID; an error fails the test with
// the last lines of the build log.
func (b *BuildBuilder) Image() string {
	if b.s.tb == nil {
		id, err := b.ImageE(context.Background())
		if err != nil {
			panic(fmt.Sprintf("berth: Build.Image: %v", err))
		}
		return id
	}
	b.s.tb.Helper()
	id, err := b.ImageE(b.s.tb.Context())
	if err != nil {
		b.s.tb.Fatalf("berth: Build.Image: %v", err)
	}
	return id
}
