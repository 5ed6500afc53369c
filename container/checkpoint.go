package container

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/berth-go/berth/internal/wire"
)

// ErrCheckpointNotFound reports a checkpoint name the container does not
// have. It also matches engine.ErrNotFound.
var ErrCheckpointNotFound = errors.New("checkpoint not found")

// checkpointName is what the engine accepts as a checkpoint name (the
// rule of container names).
var checkpointName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

func validCheckpoint(call, name string) error {
	if !checkpointName.MatchString(name) {
		return &SpecError{Field: call, Value: name, Hint: "a checkpoint name starts with a letter or digit and has only letters, digits, '_', '.' and '-'"}
	}
	return nil
}

// Checkpoint saves the state of the running container's processes under
// name (with CRIU) and leaves the container running. The engine must run
// in experimental mode with CRIU installed; otherwise, and on Podman,
// whose Docker API has no checkpoints, the error matches
// engine.ErrUnsupported.
func (c *Container) Checkpoint(ctx context.Context, name string) error {
	if err := validCheckpoint("Checkpoint", name); err != nil {
		return err
	}
	return c.checkpointErr("checkpoint", name, c.client.CheckpointCreate(ctx, c.id, name, false))
}

// Checkpoints lists the names of the container's checkpoints.
func (c *Container) Checkpoints(ctx context.Context) ([]string, error) {
	cps, err := c.client.CheckpointList(ctx, c.id)
	if err != nil {
		return nil, c.checkpointErr("list checkpoints", "", err)
	}
	names := make([]string, 0, len(cps))
	for _, cp := range cps {
		names = append(names, cp.Name)
	}
	return names, nil
}

// DeleteCheckpoint deletes one checkpoint. An unknown name is an error
// matching ErrCheckpointNotFound.
func (c *Container) DeleteCheckpoint(ctx context.Context, name string) error {
	if err := validCheckpoint("DeleteCheckpoint", name); err != nil {
		return err
	}
	return c.checkpointErr("delete checkpoint", name, c.client.CheckpointDelete(ctx, c.id, name))
}

// StartFromCheckpoint starts the stopped container with the process state
// saved by Checkpoint. An unknown name is an error matching
// ErrCheckpointNotFound.
func (c *Container) StartFromCheckpoint(ctx context.Context, name string) error {
	if err := validCheckpoint("StartFromCheckpoint", name); err != nil {
		return err
	}
	// Podman's start ignores the checkpoint and starts afresh: ask for the
	// list first, which an engine without checkpoints refuses.
	if _, err := c.client.CheckpointList(ctx, c.id); err != nil {
		return c.checkpointErr("start from checkpoint", name, err)
	}
	c.forgetBindings()
	return c.checkpointErr("start from checkpoint", name, c.client.ContainerStartCheckpoint(ctx, c.id, name))
}

// checkpointErr explains the engine's answers to checkpoint calls.
func (c *Container) checkpointErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	what := op + " of " + c.String()
	if name != "" {
		what = fmt.Sprintf("%s %q of %s", op, name, c)
	}
	var ae *wire.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("%s: %w", what, err)
	}
	msg := strings.ToLower(ae.Message)
	switch {
	case errors.Is(err, wire.ErrUnsupported):
		return &chainError{
			msg:  fmt.Sprintf("%s: %s: the engine's API has no checkpoint endpoints (Podman's Docker API has none; there, podman container checkpoint does it, with CRIU) (%v)", what, wire.ErrUnsupported, err),
			errs: []error{err},
		}
	case ae.StatusCode == http.StatusNotImplemented || strings.Contains(msg, "experimental"):
		return &chainError{
			msg:  fmt.Sprintf("%s: %s: checkpoints need an engine in experimental mode (dockerd --experimental, or \"experimental\": true in daemon.json) with CRIU installed (%v)", what, wire.ErrUnsupported, err),
			errs: []error{wire.ErrUnsupported, err},
		}
	case strings.Contains(msg, "criu") && (strings.Contains(msg, "not found") || strings.Contains(msg, "no such file")):
		return &chainError{
			msg:  fmt.Sprintf("%s: %s: checkpoints need CRIU installed on the engine's host (%v)", what, wire.ErrUnsupported, err),
			errs: []error{wire.ErrUnsupported, err},
		}
	case name != "" && (strings.Contains(msg, "does not exist") || strings.Contains(msg, "no such checkpoint") ||
		(ae.StatusCode == http.StatusNotFound && strings.Contains(msg, "checkpoint"))):
		return &chainError{
			msg:  fmt.Sprintf("%s: the container has no checkpoint of that name; list them with Checkpoints (%v)", what, err),
			errs: []error{ErrCheckpointNotFound, wire.ErrNotFound, err},
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// chainError has its own message and matches several errors with
// errors.Is and errors.As.
type chainError struct {
	msg  string
	errs []error
}

func (e *chainError) Error() string   { return e.msg }
func (e *chainError) Unwrap() []error { return e.errs }
