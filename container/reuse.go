package container

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/wire"
	"github.com/cenkalti/backoff/v4"
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

// How starters of one reused container share it. Test binaries of `go test
// ./...` run at once, and several may find the name free: the engine lets
// one create win, and the others join the container it made.
const (
	// reuseCreatedGrace is how long a starter leaves a container that is
	// created but not started to its creator (copying files, connecting
	// networks) before starting it itself: the creator may have died.
	reuseCreatedGrace = 10 * time.Second
	// reuseAttempts bounds the looks at the name while it changes hands: a
	// create that lost, a container whose creator failed and removed it, one
	// being removed.
	reuseAttempts = 40
)

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
	create := spec
	create.Reuse = false
	create.Labels = make(map[string]string, len(spec.Labels)+2)
	for k, v := range spec.Labels {
		create.Labels[k] = v
	}
	create.Labels[engine.LabelReuse] = spec.Name
	create.Labels[engine.LabelSpecHash] = hash
	// A reused container outlives the session: no session labels, no
	// cleanup registration.
	ropts := RunOptions{Keychain: opts.Keychain, Host: opts.Host}

	b := backoff.WithContext(backoff.WithMaxRetries(&backoff.ExponentialBackOff{
		InitialInterval: 50 * time.Millisecond, RandomizationFactor: 0.5, Multiplier: 2,
		MaxInterval: 500 * time.Millisecond, Clock: backoff.SystemClock,
	}, reuseAttempts-1), ctx)
	var (
		ctr     *Container
		settled bool
	)
	err = backoff.Retry(func() error {
		var retry bool
		var err error
		ctr, retry, err = lookReused(ctx, c, spec, create, opts, ropts, hash)
		if retry {
			if err == nil {
				err = fmt.Errorf("the container named %q changed hands", spec.Name)
			}
			return err
		}
		settled = true
		return backoff.Permanent(err)
	}, b)
	if settled || ctx.Err() != nil {
		return ctr, err
	}
	return nil, &StartError{Image: spec.Image, Step: "reuse", Err: fmt.Errorf("the container named %q kept changing hands (created, removed) through %d looks: %w", spec.Name, reuseAttempts, err)}
}

// lookReused looks at the name once: creates the container, joins it, or
// replaces one of another spec. retry says the name changed hands meanwhile.
func lookReused(ctx context.Context, c *wire.Client, spec, create Spec, opts, ropts RunOptions, hash string) (ctr *Container, retry bool, err error) {
	info, err := c.ContainerInspect(ctx, spec.Name)
	switch {
	case errors.Is(err, wire.ErrNotFound):
		return createReused(ctx, c, create, ropts)
	case err != nil:
		return nil, false, err
	}
	labels := map[string]string{}
	if info.Config != nil {
		labels = info.Config.Labels
	}
	if labels[engine.LabelReuse] != spec.Name {
		return nil, false, &StartError{Image: spec.Image, Step: "reuse", Err: fmt.Errorf("a container named %q exists but was not made for reuse by berth: remove it or pick another name", spec.Name)}
	}
	if labels[engine.LabelSpecHash] == hash {
		return joinReused(ctx, c, spec, opts, info)
	}
	// Same name, other spec: replace it. By ID, so a starter that saw the
	// old container never removes the new one.
	err = c.ContainerRemove(ctx, info.ID, wire.RemoveOptions{Force: true, Volumes: true})
	switch {
	case err == nil, errors.Is(err, wire.ErrNotFound):
		return createReused(ctx, c, create, ropts)
	case errors.Is(err, wire.ErrConflict): // being removed already
		return nil, true, err
	default:
		return nil, false, &StartError{Image: spec.Image, ID: info.ID, Step: "replace reused", Err: err}
	}
}

// createReused creates and starts the reused container. retry says another
// starter got in the way: it created the name first (join its container)
// or took a host port berth picked.
func createReused(ctx context.Context, c *wire.Client, spec Spec, opts RunOptions) (ctr *Container, retry bool, err error) {
	ctr, err = create(ctx, c, spec, opts)
	if err != nil {
		var se *StartError
		return nil, errors.As(err, &se) && se.Step == "create" && errors.Is(err, wire.ErrConflict), err
	}
	err = ctr.startAndWait(ctx, nil)
	if errors.Is(err, wire.ErrNotModified) {
		// A starter that found it created for longer than the grace
		// started it.
		err = nil
	}
	if err == nil {
		err = waitReused(ctx, ctr, spec)
	}
	if err != nil {
		// Only the creator removes: joiners waiting on it look again.
		ctr.removeAfterFailure()
		return nil, ctr.autoPorts && isPortTaken(err), err
	}
	return ctr, false, nil
}

// joinReused takes the reused container another starter made, or an
// earlier run left: it starts it when it is stopped, waits for it to run
// and for the spec's wait strategy. It never removes the container. retry
// says the container went (its creator failed, or it is being removed).
func joinReused(ctx context.Context, c *wire.Client, spec Spec, opts RunOptions, info *wire.ContainerJSON) (ctr *Container, retry bool, err error) {
	id := info.ID
	state := func(info *wire.ContainerJSON) string {
		switch {
		case info.State == nil:
			return ""
		case info.State.Running:
			return "running"
		}
		return info.State.Status
	}
	st := state(info)
	if st == "created" {
		// Its creator is copying files or connecting networks: leave
		// the start to it.
		deadline := time.Now().Add(reuseCreatedGrace)
		for st == "created" && time.Now().Before(deadline) {
			if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
				return nil, false, err
			}
			info, err = c.ContainerInspect(ctx, id)
			if errors.Is(err, wire.ErrNotFound) {
				return nil, true, err
			}
			if err != nil {
				return nil, false, err
			}
			st = state(info)
		}
	}
	switch st {
	case "running":
	case "removing", "dead":
		return nil, true, fmt.Errorf("container %.12s named %q is %s", id, spec.Name, st)
	default: // created (its creator is gone), exited
		err := c.ContainerStart(ctx, id)
		switch {
		case err == nil, errors.Is(err, wire.ErrNotModified): // started by another starter
		case errors.Is(err, wire.ErrNotFound), errors.Is(err, wire.ErrConflict): // removed, being removed
			return nil, true, err
		default:
			return nil, false, &StartError{Image: spec.Image, ID: id, Step: "restart reused", Err: err}
		}
	}
	ctr = newContainer(c, id, spec, opts)
	if err := waitReused(ctx, ctr, spec); err != nil {
		if ctx.Err() == nil && reusedGone(ctx, c, id) {
			return nil, true, err
		}
		return nil, false, err
	}
	return ctr, false, nil
}

func waitReused(ctx context.Context, ctr *Container, spec Spec) error {
	if spec.WaitFor == nil {
		return nil
	}
	if err := spec.WaitFor.Ready(ctx, ctr); err != nil {
		return &StartError{Image: spec.Image, ID: ctr.id, Step: "wait for " + spec.WaitFor.String(), Err: err}
	}
	return nil
}

// reusedGone reports whether container id was removed or is being removed.
func reusedGone(ctx context.Context, c *wire.Client, id string) bool {
	info, err := c.ContainerInspect(ctx, id)
	if errors.Is(err, wire.ErrNotFound) {
		return true
	}
	return err == nil && info.State != nil && (info.State.Status == "removing" || info.State.Status == "dead")
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
