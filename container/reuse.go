package container

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/berth-go/berth/internal/wire"
)

// Labels of reused containers.
const (
	LabelReuse    = "berth.reuse"
	LabelSpecHash = "berth.spec-hash"
)

// SpecHash is a stable hash of everything in spec that shapes the
// container, so a reused container is only returned for the same spec.
func SpecHash(spec Spec) (string, error) {
	cfg, err := buildConfig(spec, nil)
	if err != nil {
		return "", err
	}
	files := make([]File, len(spec.Files))
	copy(files, spec.Files)
	data, err := json.Marshal(struct {
		Cfg   *wire.ContainerConfig
		Files []File
	}{cfg, files})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16]), nil
}

func runReused(ctx context.Context, c *wire.Client, spec Spec, opts RunOptions) (*Container, error) {
	if spec.Name == "" {
		return nil, &SpecError{Field: "Reuse", Value: "", Hint: "reuse needs a Name to find the container by"}
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	hash, err := SpecHash(spec)
	if err != nil {
		return nil, err
	}
	info, err := c.ContainerInspect(ctx, spec.Name)
	switch {
	case err == nil:
		labels := map[string]string{}
		if info.Config != nil {
			labels = info.Config.Labels
		}
		if labels[LabelReuse] != spec.Name {
			return nil, &StartError{Image: spec.Image, Step: "reuse", Err: fmt.Errorf("a container named %q exists but was not made for reuse by berth: remove it or pick another name", spec.Name)}
		}
		if labels[LabelSpecHash] == hash {
			if info.State == nil || !info.State.Running {
				if err := c.ContainerStart(ctx, info.ID); err != nil {
					return nil, &StartError{Image: spec.Image, ID: info.ID, Step: "restart reused", Err: err}
				}
			}
			ctr := newContainer(c, info.ID, spec, opts)
			if spec.WaitFor != nil {
				if err := spec.WaitFor.Ready(ctx, ctr); err != nil {
					return nil, &StartError{Image: spec.Image, ID: info.ID, Step: "wait for " + spec.WaitFor.String(), Err: err}
				}
			}
			return ctr, nil
		}
		// Same name, other spec: replace it.
		if err := c.ContainerRemove(ctx, info.ID, wire.RemoveOptions{Force: true, Volumes: true}); err != nil && !errors.Is(err, wire.ErrNotFound) {
			return nil, &StartError{Image: spec.Image, ID: info.ID, Step: "replace reused", Err: err}
		}
	case !errors.Is(err, wire.ErrNotFound):
		return nil, err
	}
	spec.Reuse = false
	if spec.Labels == nil {
		spec.Labels = map[string]string{}
	} else {
		l := make(map[string]string, len(spec.Labels)+2)
		for k, v := range spec.Labels {
			l[k] = v
		}
		spec.Labels = l
	}
	spec.Labels[LabelReuse] = spec.Name
	spec.Labels[LabelSpecHash] = hash
	// A reused container outlives the session: no session labels, no
	// cleanup registration.
	ropts := RunOptions{Credentials: opts.Credentials, Host: opts.Host}
	return Run(ctx, c, spec, ropts)
}
