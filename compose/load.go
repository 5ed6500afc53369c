package compose

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// maxFileSize bounds the Compose file read into memory.
const maxFileSize = 4 << 20

// load reads and checks file the way `docker compose` would, with cfg's
// profiles, selection and variables.
func load(ctx context.Context, file string, cfg *config) (*types.Project, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("compose %s: %w", file, err)
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("compose %s: %w: %w", file, ErrFileNotFound, err)
	case err != nil:
		return nil, fmt.Errorf("compose %s: %w", file, err)
	case st.IsDir():
		return nil, fmt.Errorf("compose %s: %w: it is a directory; give the file (docker-compose.yml, compose.yaml)", file, ErrFileNotFound)
	case st.Size() > maxFileSize:
		return nil, fmt.Errorf("compose %s: %w: %d bytes is more than the %d a Compose file may have here", file, ErrInvalidFile, st.Size(), maxFileSize)
	}
	var vars []string
	for k, v := range cfg.vars {
		vars = append(vars, k+"="+v)
	}
	opts := []cli.ProjectOptionsFn{
		cli.WithWorkingDirectory(filepath.Dir(abs)),
		cli.WithEnv(vars), // before the OS environment: it wins
		cli.WithOsEnv,
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithProfiles(cfg.profiles),
		cli.WithResolvedPaths(true),
	}
	if len(cfg.only) > 0 {
		opts = append(opts, cli.WithSelectedServices(cfg.only...), cli.WithoutUnnecessaryResources)
	}
	p, err := loadProject(ctx, abs, opts)
	if err != nil {
		return nil, loadError(file, err)
	}
	if len(p.Jobs) > 0 {
		return nil, fmt.Errorf("compose %s: %w: jobs (%s)", file, ErrUnsupported, strings.Join(slices.Sorted(maps.Keys(p.Jobs)), ", "))
	}
	if err := checkCycles(p); err != nil {
		return nil, fmt.Errorf("compose %s: %w", file, err)
	}
	for name := range cfg.overrides {
		if _, ok := p.Services[name]; !ok {
			return nil, fmt.Errorf("compose %s: an option names service %q: %w", file, name, unknownService(p, name))
		}
	}
	return p, nil
}

// loadProject runs compose-go's loader; a panic in it (a file it did not
// expect) is an error, not the end of the test binary.
func loadProject(ctx context.Context, abs string, opts []cli.ProjectOptionsFn) (p *types.Project, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("the Compose loader failed on this file: %v", r)
		}
	}()
	po, err := cli.NewProjectOptions([]string{abs}, opts...)
	if err != nil {
		return nil, err
	}
	return po.LoadProject(ctx)
}

func loadError(file string, err error) error {
	if strings.Contains(err.Error(), "dependency cycle") {
		return fmt.Errorf("compose %s: %w: %w", file, ErrDependencyCycle, err)
	}
	if strings.Contains(err.Error(), "undefined service") || strings.Contains(err.Error(), "no such service") {
		return fmt.Errorf("compose %s: %w: %w", file, ErrUnknownService, err)
	}
	return fmt.Errorf("compose %s: %w: %w", file, ErrInvalidFile, err)
}

// unknownService says why name is not a service to run, and what is.
func unknownService(p *types.Project, name string) error {
	if s, ok := p.DisabledServices[name]; ok && len(s.Profiles) > 0 {
		return fmt.Errorf("%w %q: it is in profiles %v, none of them active (use compose.Profiles)", ErrUnknownService, name, s.Profiles)
	}
	if _, ok := p.DisabledServices[name]; ok {
		return fmt.Errorf("%w %q: it is not selected (compose.Only)", ErrUnknownService, name)
	}
	names := p.ServiceNames()
	sort.Strings(names)
	return fmt.Errorf("%w %q: the file has %s", ErrUnknownService, name, strings.Join(names, ", "))
}

// checkCycles finds a depends_on cycle and names its services in order.
func checkCycles(p *types.Project) error {
	const (
		unseen = iota
		visiting
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case visiting:
			i := slices.Index(path, name)
			return fmt.Errorf("%w: %s", ErrDependencyCycle, strings.Join(append(slices.Clone(path[i:]), name), " → "))
		case done:
			return nil
		}
		state[name] = visiting
		path = append(path, name)
		s := p.Services[name]
		for _, dep := range slices.Sorted(maps.Keys(s.DependsOn)) {
			if _, ok := p.Services[dep]; !ok {
				continue // an optional dependency that is not enabled
			}
			if err := visit(dep); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		state[name] = done
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		if err := visit(name); err != nil {
			return err
		}
	}
	return nil
}
