package network

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/berth-go/berth/internal/wire"
)

// Fault degrades what a container sends on a network, as a slow or lossy
// link would. The zero Fault changes nothing.
type Fault struct {
	// Delay holds each packet the container sends this long; Jitter varies
	// it by up to that much either way. They need the kernel's netem
	// (CONFIG_NET_SCH_NETEM) on the engine's host.
	Delay, Jitter time.Duration
	// Loss drops this share of the packets the container sends, in percent
	// (0-100).
	Loss float64
	// Rate caps what the container sends, in bytes per second (0: no cap).
	Rate int64
	// Image is the helper image with tc and iptables that joins the
	// container's network namespace for a moment to set the fault up;
	// default FaultImage.
	Image string
}

// FaultImage is the helper image Degrade uses by default (it has tc and
// iptables); BERTH_FAULT_IMAGE overrides it.
const FaultImage = "nicolaka/netshoot:v0.13"

// ErrNoNetem is matched (errors.Is) by the error of Degrade when the
// engine's kernel cannot delay packets: it has no netem queueing
// discipline. Loss and Rate work without it. It also matches
// engine.ErrUnsupported.
var ErrNoNetem = fmt.Errorf("%w: the engine's kernel has no netem (CONFIG_NET_SCH_NETEM) to delay packets", wire.ErrUnsupported)

// ErrInvalidFault is matched (errors.Is) by the error of Degrade for a
// Fault out of range.
var ErrInvalidFault = errors.New("invalid fault")

func (f Fault) check() error {
	switch {
	case f.Delay < 0 || f.Jitter < 0:
		return fmt.Errorf("%w: Delay %v and Jitter %v must not be negative", ErrInvalidFault, f.Delay, f.Jitter)
	case f.Jitter > 0 && f.Delay == 0:
		return fmt.Errorf("%w: Jitter %v varies a Delay: set Delay too", ErrInvalidFault, f.Jitter)
	case f.Loss < 0 || f.Loss > 100:
		return fmt.Errorf("%w: Loss %v is a percentage: give 0 to 100", ErrInvalidFault, f.Loss)
	case f.Rate < 0:
		return fmt.Errorf("%w: Rate %d bytes per second must not be negative", ErrInvalidFault, f.Rate)
	case f.Rate > 0 && f.Rate < 128:
		return fmt.Errorf("%w: Rate %d bytes per second is below what a link can be shaped to (128)", ErrInvalidFault, f.Rate)
	}
	return nil
}

// Degrade sets f on m's interface on this network, in place of a fault
// set before: what m sends there is delayed, dropped or slowed. m must be
// running. Heal takes every fault off (as it ends partitions), and the
// fault ends with the container. A helper container (f.Image) shares m's
// network namespace for the moment it takes to run tc and iptables, with
// the network's labels, and is removed at once.
func (n *Network) Degrade(ctx context.Context, m Member, f Fault) error {
	if err := f.check(); err != nil {
		return err
	}
	id, err := memberID("Degrade", m)
	if err != nil {
		return err
	}
	if err := n.runFault(ctx, id, faultScript(f), f.Image); err != nil {
		return fmt.Errorf("degrade %.12s on %s: %w", id, n.name, err)
	}
	n.mu.Lock()
	if n.degraded == nil {
		n.degraded = map[string]string{}
	}
	n.degraded[id] = f.Image
	n.mu.Unlock()
	return nil
}

// healFaults takes the faults Degrade set off the containers still there.
func (n *Network) healFaults(ctx context.Context) error {
	n.mu.Lock()
	faults := n.degraded
	n.degraded = nil
	n.mu.Unlock()
	var errs []error
	for id, image := range faults {
		err := n.runFault(ctx, id, faultScript(Fault{}), image)
		if err != nil && !errors.Is(err, wire.ErrNotFound) && !errors.Is(err, wire.ErrConflict) {
			errs = append(errs, fmt.Errorf("heal %s: clear the fault of %.12s: %w", n.name, id, err))
		}
	}
	return errors.Join(errs...)
}

// faultScript is the shell script that clears the earlier fault of the
// interface holding $IP, then sets f.
func faultScript(f Fault) string {
	var b strings.Builder
	b.WriteString(`set -e
dev=$(ip -o -4 addr show | awk -v ip="$IP" '{ split($4, a, "/"); if (a[1] == ip) { sub(/@.*/, "", $2); print $2 } }')
[ -n "$dev" ] || { echo "no interface holds $IP" >&2; exit 3; }
tc qdisc del dev "$dev" root 2>/dev/null || true
iptables -D OUTPUT -o "$dev" -j BERTH-FAULT 2>/dev/null || true
iptables -F BERTH-FAULT 2>/dev/null || true
iptables -X BERTH-FAULT 2>/dev/null || true
`)
	parent := "root handle 1:"
	if f.Delay > 0 {
		fmt.Fprintf(&b, "tc qdisc add dev \"$dev\" root handle 1: netem delay %dus", f.Delay.Microseconds())
		if f.Jitter > 0 {
			fmt.Fprintf(&b, " %dus distribution normal", f.Jitter.Microseconds())
		}
		b.WriteString(" 2>/tmp/err || { cat /tmp/err >&2; grep -q 'unknown' /tmp/err && exit 4; exit 1; }\n")
		parent = "parent 1:1 handle 10:"
	}
	if f.Rate > 0 {
		// A burst of a tenth of a second's worth (at least 2 KiB), and
		// packets wait at most a second in the queue.
		burst := max(f.Rate/10, 2048)
		fmt.Fprintf(&b, "tc qdisc add dev \"$dev\" %s tbf rate %dbit burst %d latency 1s\n", parent, f.Rate*8, burst)
	}
	if f.Loss > 0 {
		b.WriteString("iptables -N BERTH-FAULT\n")
		if f.Loss >= 100 {
			b.WriteString("iptables -A BERTH-FAULT -j DROP\n")
		} else {
			fmt.Fprintf(&b, "iptables -A BERTH-FAULT -m statistic --mode random --probability %s -j DROP\n", strconv.FormatFloat(f.Loss/100, 'f', -1, 64))
		}
		b.WriteString("iptables -I OUTPUT -o \"$dev\" -j BERTH-FAULT\n")
	}
	return b.String()
}

// runFault runs script in a helper that joins the network namespace of
// container id, with IP set to id's address on this network.
func (n *Network) runFault(ctx context.Context, id, script, image string) error {
	if image == "" {
		image = os.Getenv("BERTH_FAULT_IMAGE")
	}
	if image == "" {
		image = FaultImage
	}
	info, err := n.Inspect(ctx)
	if err != nil {
		return err
	}
	ep, ok := info.Endpoints[id]
	if !ok {
		return fmt.Errorf("%w: %.12s is not on %s", ErrNotMember, id, n.name)
	}
	ip, _, _ := strings.Cut(ep.IPv4, "/")
	if err := n.ensureImage(ctx, image); err != nil {
		return err
	}
	cfg := &wire.ContainerConfig{
		Image:  image,
		Env:    []string{"IP=" + ip},
		Cmd:    []string{"sh", "-c", script},
		Labels: info.Labels,
		HostConfig: &wire.HostConfig{
			NetworkMode: "container:" + id,
			CapAdd:      []string{"NET_ADMIN"},
		},
	}
	created, err := n.client.ContainerCreate(ctx, "", cfg, "")
	if err != nil {
		return fmt.Errorf("create the fault helper from %s: %w", image, err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		n.client.ContainerRemove(rctx, created.ID, wire.RemoveOptions{Force: true})
	}()
	if err := n.client.ContainerStart(ctx, created.ID); err != nil {
		return fmt.Errorf("start the fault helper (is %.12s running?): %w", id, err)
	}
	res, err := n.client.ContainerWait(ctx, created.ID, "not-running")
	if err != nil {
		return fmt.Errorf("wait for the fault helper: %w", err)
	}
	switch res.StatusCode {
	case 0:
		return nil
	case 4:
		return ErrNoNetem
	}
	return fmt.Errorf("the fault helper (%s) exited %d: %s", image, res.StatusCode, n.helperOutput(ctx, created.ID))
}

// ensureImage pulls image when the engine lacks it (anonymously: the
// helper image is public).
func (n *Network) ensureImage(ctx context.Context, image string) error {
	if _, err := n.client.ImageInspect(ctx, image); err == nil || !errors.Is(err, wire.ErrNotFound) {
		return err
	}
	name, tag := image, "latest"
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		name, tag = image[:i], image[i+1:]
	}
	if err := n.client.ImagePull(ctx, name, tag, "", "", nil); err != nil {
		return fmt.Errorf("pull the fault helper image %s (set Fault.Image or BERTH_FAULT_IMAGE to an image with tc and iptables): %w", image, err)
	}
	return nil
}

// helperOutput is the end of what the helper wrote, for an error.
func (n *Network) helperOutput(ctx context.Context, id string) string {
	body, err := n.client.ContainerLogs(ctx, id, wire.LogsOptions{Stdout: true, Stderr: true, Tail: "20"})
	if err != nil {
		return "(no output: " + err.Error() + ")"
	}
	defer body.Close()
	var out strings.Builder
	w := &limited{w: &out, n: 2048}
	wire.Demux(io.LimitReader(body, 64<<10), w, w)
	return strings.TrimSpace(out.String())
}

// limited keeps the first n bytes written to it.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
