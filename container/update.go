package container

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/berth-go/berth/internal/wire"
)

// ErrLimitBelowUsage reports a memory limit lower than what the container
// already uses: the kernel refuses to shrink the cgroup under it.
var ErrLimitBelowUsage = errors.New("memory limit below current usage")

// Limits are resource limits changed on a live container by Update. A zero
// field leaves that limit as it is.
type Limits struct {
	// Memory is the memory limit in bytes.
	Memory int64
	// MemorySwap is the limit of memory plus swap in bytes; -1 allows
	// unlimited swap. Left at 0 while Memory is set, it becomes Memory
	// (no swap), so the new memory limit is the one that applies.
	MemorySwap int64
	// CPUs is the number of CPUs the container may use, e.g. 0.5.
	CPUs float64
	// PidsLimit caps the number of processes and threads; -1 removes the
	// cap.
	PidsLimit int64
	// RestartPolicy replaces the restart policy when not nil.
	RestartPolicy *RestartPolicy
}

// RestartPolicy says what the engine does when the container exits.
type RestartPolicy struct {
	Name       string // "no", "always", "unless-stopped" or "on-failure"
	MaxRetries int    // only with "on-failure"; 0 retries forever
}

func (l Limits) wireConfig() (wire.UpdateConfig, error) {
	var u wire.UpdateConfig
	bad := func(field, value, hint string) (wire.UpdateConfig, error) {
		return wire.UpdateConfig{}, &SpecError{Field: "Update." + field, Value: value, Hint: hint}
	}
	if l == (Limits{}) {
		return bad("Limits", "{}", "set at least one limit to change")
	}
	if l.Memory < 0 {
		return bad("Memory", strconv.FormatInt(l.Memory, 10), "give the limit in bytes, e.g. 64<<20")
	}
	if l.MemorySwap < -1 {
		return bad("MemorySwap", strconv.FormatInt(l.MemorySwap, 10), "give bytes of memory plus swap, or -1 for unlimited swap")
	}
	if l.MemorySwap > 0 && l.Memory > 0 && l.MemorySwap < l.Memory {
		return bad("MemorySwap", strconv.FormatInt(l.MemorySwap, 10), "memory plus swap cannot be less than Memory ("+strconv.FormatInt(l.Memory, 10)+")")
	}
	if l.CPUs < 0 || math.IsNaN(l.CPUs) || math.IsInf(l.CPUs, 0) {
		return bad("CPUs", strconv.FormatFloat(l.CPUs, 'g', -1, 64), "give a positive number of CPUs, e.g. 0.5")
	}
	if l.PidsLimit < -1 {
		return bad("PidsLimit", strconv.FormatInt(l.PidsLimit, 10), "give a positive number, or -1 to remove the limit")
	}
	u.Memory = l.Memory
	u.MemorySwap = l.MemorySwap
	if l.Memory > 0 && l.MemorySwap == 0 {
		// The engine refuses a memory limit above an earlier swap limit
		// unless both change together.
		u.MemorySwap = l.Memory
	}
	if l.CPUs > 0 {
		u.NanoCPUs = int64(math.Round(l.CPUs * 1e9))
		if u.NanoCPUs == 0 {
			return bad("CPUs", strconv.FormatFloat(l.CPUs, 'g', -1, 64), "the smallest share is 0.000000001 CPUs; 0.01 is a practical minimum")
		}
	}
	if l.PidsLimit != 0 {
		p := l.PidsLimit
		u.PidsLimit = &p
	}
	if rp := l.RestartPolicy; rp != nil {
		switch rp.Name {
		case "no", "always", "unless-stopped":
			if rp.MaxRetries != 0 {
				return bad("RestartPolicy", rp.Name, "MaxRetries works only with \"on-failure\"")
			}
		case "on-failure":
			if rp.MaxRetries < 0 {
				return bad("RestartPolicy", strconv.Itoa(rp.MaxRetries), "MaxRetries cannot be negative")
			}
		default:
			return bad("RestartPolicy", rp.Name, "use \"no\", \"always\", \"unless-stopped\" or \"on-failure\"")
		}
		u.RestartPolicy = &wire.RestartPolicy{Name: rp.Name, MaximumRetryCount: rp.MaxRetries}
	}
	return u, nil
}

// currentUsage finds runc's "(current usage: N" in an update refusal.
var currentUsage = regexp.MustCompile(`current usage: (\d+)`)

// Update changes the resource limits of the container while it runs. A
// memory limit below what the container already uses fails with an error
// matching ErrLimitBelowUsage and leaves every limit as it was. On Podman,
// whose Docker API has no update endpoint, the error matches
// engine.ErrUnsupported.
func (c *Container) Update(ctx context.Context, l Limits) error {
	u, err := l.wireConfig()
	if err != nil {
		return err
	}
	err = c.client.ContainerUpdate(ctx, c.id, u)
	if err == nil {
		return nil
	}
	if errors.Is(err, wire.ErrUnsupported) {
		return fmt.Errorf("update limits of %s: the engine cannot change a container's limits (Podman's Docker API has no update endpoint): create the container with the limits instead: %w", c, err)
	}
	var ae *wire.APIError
	if errors.As(err, &ae) && strings.Contains(ae.Message, "unable to set memory limit") {
		usage := "more"
		if m := currentUsage.FindStringSubmatch(ae.Message); m != nil {
			if n, perr := strconv.ParseUint(m[1], 10, 64); perr == nil {
				usage = humanBytes(n)
			}
		}
		return fmt.Errorf("update %s: memory limit %s is below the %s the container already uses; free memory inside it first or choose a higher limit (limits unchanged): %w: %w",
			c, humanBytes(uint64(l.Memory)), usage, ErrLimitBelowUsage, err)
	}
	return fmt.Errorf("update limits of %s: %w", c, err)
}

// Rename gives the container a new name. A name another container has is
// an error matching engine.ErrConflict.
func (c *Container) Rename(ctx context.Context, name string) error {
	name = strings.TrimPrefix(name, "/")
	if name == "" {
		return &SpecError{Field: "Rename", Value: name, Hint: "give a name of letters, digits, '_', '.' or '-'"}
	}
	if err := c.client.ContainerRename(ctx, c.id, name); err != nil {
		if errors.Is(err, wire.ErrConflict) {
			return fmt.Errorf("rename %s to %q: the name belongs to another container; choose another: %w", c, name, err)
		}
		return fmt.Errorf("rename %s to %q: %w", c, name, err)
	}
	c.mu.Lock()
	c.name = name
	c.mu.Unlock()
	return nil
}

// ResizeTTY sets the size of the container's terminal in rows (height) and
// columns (width). The container must have a TTY.
func (c *Container) ResizeTTY(ctx context.Context, height, width int) error {
	if !c.tty {
		return fmt.Errorf("resize terminal of %s: the container has no TTY; create it with Spec.Tty (builder: Tty())", c)
	}
	if height <= 0 || width <= 0 || height > math.MaxUint16 || width > math.MaxUint16 {
		return &SpecError{Field: "ResizeTTY", Value: fmt.Sprintf("%dx%d", height, width), Hint: "rows and columns must be between 1 and 65535"}
	}
	if err := c.client.ContainerResize(ctx, c.id, height, width); err != nil {
		return c.notRunning("resize terminal", err)
	}
	return nil
}
