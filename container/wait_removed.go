package container

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/berth-go/berth/internal/wire"
)

// removeEventGrace bounds how long a removed-wait on Podman waits for the
// die and remove events after the engine's own answer.
const removeEventGrace = 2 * time.Second

// waitRemovedPodman serves WaitChan("removed") on Podman, whose answer is
// always 0: the exit code dockerd gives comes from the container's state
// when the wait begins and from its die events while it runs.
func (c *Container) waitRemovedPodman(ctx context.Context) (<-chan WaitResult, error) {
	evctx, cancel := context.WithCancel(ctx)
	// Podman matches "die" in no event filter (its own name is "died"):
	// take all of the container's events and pick them here.
	events, errc := c.client.Events(evctx, wire.Filters{"type": {"container"}, "container": {c.id}})
	select {
	case err := <-errc:
		if err != nil {
			cancel()
			return nil, fmt.Errorf("wait for %s (removed): %w", c, err)
		}
	default:
	}
	// The events are watched first, so an exit after this inspect is seen.
	code := 0
	info, err := c.client.ContainerInspect(ctx, c.id)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("wait for %s (removed): %w", c, err)
	}
	if info.State != nil && !info.State.Running && info.State.ExitCode > 0 {
		code = info.State.ExitCode
	}
	answer, err := c.registerWait(ctx, "removed")
	if err != nil {
		cancel()
		return nil, err
	}
	out := make(chan WaitResult, 1)
	go func() {
		defer close(out)
		defer cancel()
		removed := false
		// take handles one receive from events; a closed stream sets
		// events to nil, so the selects below stop reading it.
		take := func(ev wire.Event, ok bool) {
			if !ok {
				events = nil
				return
			}
			switch ev.Action {
			case "die":
				if n, err := strconv.Atoi(ev.Actor.Attributes["exitCode"]); err == nil {
					code = n
				}
			case "remove", "destroy":
				removed = true
			}
		}
		var res WaitResult
	waiting:
		for {
			select {
			case ev, ok := <-events:
				take(ev, ok)
			case res = <-answer:
				break waiting
			}
		}
		if res.Err != nil {
			out <- res
			return
		}
		// The events can trail the answer: the remove event comes last.
		grace := time.NewTimer(removeEventGrace)
		defer grace.Stop()
		for !removed && events != nil {
			select {
			case ev, ok := <-events:
				take(ev, ok)
			case <-grace.C:
				events = nil
			}
		}
		res.ExitCode = code
		out <- res
	}()
	return out, nil
}
