// Package network creates user-defined bridge networks for containers and
// changes their membership at run time: connect, disconnect, partition and
// heal, for tests that need DNS by alias or network faults.
//
// Tests usually get a network from the harness, which names it uniquely,
// labels it and removes it when the test ends:
//
//	net := h.Network("backend")
//	db := h.Container("postgres:15-bookworm").Network(net, "db").Start()
//	...
//	net.Disconnect(ctx, db) // the app loses the database
//	net.Connect(ctx, db, "db")
package network

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/link"
	"github.com/berth-go/berth/internal/wire"
)

// ErrInvalidName is matched (errors.Is) by the error of Create for a name
// the engine would refuse.
var ErrInvalidName = errors.New("invalid network name")

// ErrNotMember is matched (errors.Is) by the error of Partition for a
// container that is not on the network.
var ErrNotMember = errors.New("container is not on the network")

// validName is the engine's rule for network names.
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// Member is what can join a network: a container handle.
type Member interface {
	ID() string
}

// Options shape a new network.
type Options struct {
	// Name is the engine-wide network name (callers make it unique).
	Name     string
	Driver   string // default "bridge"
	Internal bool   // no route to the outside world
	IPv6     bool
	Options  map[string]string // driver options
	Labels   map[string]string
}

// Network is a network on the engine. Its methods are safe for concurrent
// use.
type Network struct {
	client *wire.Client
	id     string
	name   string

	mu          sync.Mutex
	partitioned map[string][]string // container ID → aliases to restore
	degraded    map[string]string   // container ID → helper image of its Fault
}

// Create makes a network.
func Create(ctx context.Context, ec *engine.Client, o Options) (*Network, error) {
	c := link.Wire(ec)
	if !validName.MatchString(o.Name) {
		return nil, fmt.Errorf("create network %q: %w: start with a letter or digit and use only letters, digits, '.', '_' and '-'", o.Name, ErrInvalidName)
	}
	driver := o.Driver
	if driver == "" {
		driver = "bridge"
	}
	var id string
	var err error
	for attempt := 1; ; attempt++ {
		id, err = c.NetworkCreate(ctx, wire.NetworkCreate{
			Name: o.Name, CheckDuplicate: true, Driver: driver, Internal: o.Internal,
			EnableIPv6: o.IPv6, Options: o.Options, Labels: o.Labels, Attachable: true,
		})
		// Podman reads the host's interface addresses to pick a free
		// subnet and fails when an interface vanishes meanwhile (another
		// container's veth going away); a moment later it works.
		if err == nil || attempt == 5 || !strings.Contains(err.Error(), "no such network interface") {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("create network %s: %w", o.Name, context.Cause(ctx))
		case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
		}
	}
	if err != nil {
		if errors.Is(err, wire.ErrConflict) {
			return nil, fmt.Errorf("create network %s: a network with this name exists: pick another name or remove it: %w", o.Name, err)
		}
		return nil, fmt.Errorf("create network %s: %w", o.Name, err)
	}
	return &Network{client: c, id: id, name: o.Name}, nil
}

// Get returns a handle to an existing network, found by name or ID, for
// joining containers to a network made outside the test. Its Remove
// removes the network from the engine like any other.
func Get(ctx context.Context, ec *engine.Client, nameOrID string) (*Network, error) {
	c := link.Wire(ec)
	if nameOrID == "" {
		return nil, fmt.Errorf("get network: %w: give a network name or ID", ErrInvalidName)
	}
	info, err := c.NetworkInspect(ctx, nameOrID)
	if err != nil {
		if errors.Is(err, wire.ErrNotFound) {
			return nil, fmt.Errorf("get network %q: no such network: create it first or check the name (docker network ls): %w", nameOrID, err)
		}
		return nil, fmt.Errorf("get network %q: %w", nameOrID, err)
	}
	return &Network{client: c, id: info.ID, name: info.Name}, nil
}

// ID is the network's ID.
func (n *Network) ID() string { return n.id }

// Name is the network's name; containers resolve each other by alias on it.
func (n *Network) Name() string { return n.name }

// String names the network for messages.
func (n *Network) String() string { return "network " + n.name }

// Info is what the engine reports about a network.
type Info struct {
	ID       string
	Name     string
	Driver   string
	Internal bool
	Labels   map[string]string
	// Endpoints maps the ID of each attached container to its endpoint.
	Endpoints map[string]Endpoint
}

// Endpoint is one container's attachment to a network.
type Endpoint struct {
	Name string // container name
	IPv4 string // address with prefix length, e.g. 172.18.0.2/16
}

// Inspect returns the network's current state.
func (n *Network) Inspect(ctx context.Context) (*Info, error) {
	res, err := n.client.NetworkInspect(ctx, n.id)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", n, err)
	}
	info := &Info{ID: res.ID, Name: res.Name, Driver: res.Driver, Internal: res.Internal, Labels: res.Labels, Endpoints: map[string]Endpoint{}}
	for id, ep := range res.Containers {
		info.Endpoints[id] = Endpoint{Name: ep.Name, IPv4: ep.IPv4Address}
	}
	return info, nil
}

// Members returns the sorted IDs of the containers attached to the network.
func (n *Network) Members(ctx context.Context) ([]string, error) {
	info, err := n.Inspect(ctx)
	if err != nil {
		return nil, err
	}
	ids := slices.Sorted(maps.Keys(info.Endpoints))
	return ids, nil
}

func memberID(op string, m Member) (string, error) {
	if m == nil || m.ID() == "" {
		return "", fmt.Errorf("%s: no container given: pass a started container", op)
	}
	return m.ID(), nil
}

// Connect attaches a running or stopped container with aliases other
// containers on the network can resolve. Connecting a container that
// Partition cut off also ends its partition: Heal leaves it alone.
func (n *Network) Connect(ctx context.Context, m Member, aliases ...string) error {
	id, err := memberID("connect to "+n.name, m)
	if err != nil {
		return err
	}
	if err := n.client.NetworkConnect(ctx, n.id, id, aliases); err != nil {
		return fmt.Errorf("connect %.12s to %s: %w%s", id, n.name, err, hint(err))
	}
	n.mu.Lock()
	delete(n.partitioned, id)
	n.mu.Unlock()
	return nil
}

// Disconnect detaches a container; from then on it cannot reach the
// network's other containers nor they it, and its aliases no longer
// resolve.
func (n *Network) Disconnect(ctx context.Context, m Member) error {
	id, err := memberID("disconnect from "+n.name, m)
	if err != nil {
		return err
	}
	return n.disconnect(ctx, id)
}

func (n *Network) disconnect(ctx context.Context, id string) error {
	if err := n.client.NetworkDisconnect(ctx, n.id, id, true); err != nil {
		return fmt.Errorf("disconnect %.12s from %s: %w%s", id, n.name, err, hint(err))
	}
	return nil
}

func hint(err error) string {
	if errors.Is(err, wire.ErrNotFound) {
		return " (the container or the network no longer exists)"
	}
	return ""
}

// Partition cuts the given containers off this network, remembering their
// aliases so Heal can put them back as they were. Every container must be
// on the network (else nothing is cut and the error matches ErrNotMember).
// If cutting one fails, those cut before it stay cut and Heal restores them.
func (n *Network) Partition(ctx context.Context, members ...Member) error {
	if len(members) == 0 {
		return fmt.Errorf("partition %s: name the containers to cut off", n.name)
	}
	info, err := n.Inspect(ctx)
	if err != nil {
		return fmt.Errorf("partition: %w", err)
	}
	var ids []string
	for _, m := range members {
		id, err := memberID("partition "+n.name, m)
		if err != nil {
			return err
		}
		if _, ok := info.Endpoints[id]; !ok {
			return fmt.Errorf("partition %s: %.12s: %w: connect it first or check which network it uses", n.name, id, ErrNotMember)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		aliases, err := n.aliases(ctx, id)
		if err != nil {
			return fmt.Errorf("partition %s: %w", n.name, err)
		}
		if err := n.disconnect(ctx, id); err != nil {
			return fmt.Errorf("partition: %w", err)
		}
		n.mu.Lock()
		if n.partitioned == nil {
			n.partitioned = map[string][]string{}
		}
		n.partitioned[id] = aliases
		n.mu.Unlock()
	}
	return nil
}

// aliases returns the aliases container id has on this network, without
// the short container ID the engine adds on its own.
func (n *Network) aliases(ctx context.Context, id string) ([]string, error) {
	info, err := n.client.ContainerInspect(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("inspect %.12s: %w", id, err)
	}
	if info.NetworkSettings == nil {
		return nil, nil
	}
	for name, ep := range info.NetworkSettings.Networks {
		if ep == nil || (name != n.name && ep.NetworkID != n.id) {
			continue
		}
		return userAliases(id, ep.Aliases), nil
	}
	return nil, nil
}

// userAliases drops the 12-character short ID engines before API 1.44 add
// to every container's aliases. A user alias that merely starts the ID
// ("db" for an ID starting with db...) is kept.
func userAliases(id string, aliases []string) []string {
	var out []string
	for _, a := range aliases {
		if len(id) >= 12 && a == id[:12] {
			continue
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// Partitioned returns the sorted IDs of the containers Partition cut off
// that Heal has not put back yet.
func (n *Network) Partitioned() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	ids := slices.Sorted(maps.Keys(n.partitioned))
	return ids
}

// Heal takes off the faults Degrade set and reconnects every container
// Partition cut off, with its aliases. Containers that are back on the
// network already are skipped; those that fail to reconnect stay recorded
// for another Heal.
func (n *Network) Heal(ctx context.Context) error {
	ferr := n.healFaults(ctx)
	return errors.Join(ferr, n.healPartitions(ctx))
}

func (n *Network) healPartitions(ctx context.Context) error {
	n.mu.Lock()
	cut := n.partitioned
	n.partitioned = nil
	n.mu.Unlock()
	if len(cut) == 0 {
		return nil
	}
	info, err := n.Inspect(ctx)
	if err != nil {
		n.restore(cut)
		return fmt.Errorf("heal: %w", err)
	}
	ids := slices.Sorted(maps.Keys(cut))
	var errs []error
	failed := map[string][]string{}
	for _, id := range ids {
		if _, ok := info.Endpoints[id]; ok {
			continue
		}
		if err := n.client.NetworkConnect(ctx, n.id, id, cut[id]); err != nil {
			if !errors.Is(err, wire.ErrNotFound) {
				failed[id] = cut[id]
			}
			errs = append(errs, fmt.Errorf("heal %s: reconnect %.12s: %w%s", n.name, id, err, hint(err)))
		}
	}
	n.restore(failed)
	return errors.Join(errs...)
}

// restore puts partition records back after a failed Heal, unless the
// container was connected again meanwhile.
func (n *Network) restore(cut map[string][]string) {
	if len(cut) == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.partitioned == nil {
		n.partitioned = map[string][]string{}
	}
	for id, aliases := range cut {
		if _, ok := n.partitioned[id]; !ok {
			n.partitioned[id] = aliases
		}
	}
}

// Remove disconnects every container still attached and removes the
// network. A network already gone is not an error.
func (n *Network) Remove(ctx context.Context) error {
	n.mu.Lock()
	n.partitioned = nil
	n.degraded = nil // the faults end with their containers
	n.mu.Unlock()
	var last error
	// A container can join between the disconnects and the removal: try
	// again a few times.
	for attempt := 0; attempt < 3; attempt++ {
		res, err := n.client.NetworkInspect(ctx, n.id)
		if errors.Is(err, wire.ErrNotFound) {
			return nil
		}
		var errs []error
		if err == nil {
			for id := range res.Containers {
				if err := n.client.NetworkDisconnect(ctx, n.id, id, true); err != nil && !errors.Is(err, wire.ErrNotFound) {
					errs = append(errs, fmt.Errorf("disconnect %.12s: %w", id, err))
				}
			}
		}
		err = n.client.NetworkRemove(ctx, n.id)
		if err == nil || errors.Is(err, wire.ErrNotFound) {
			return nil
		}
		last = errors.Join(append([]error{err}, errs...)...)
		if ctx.Err() != nil || !strings.Contains(err.Error(), "active endpoints") {
			break
		}
	}
	return fmt.Errorf("remove %s: %w", n, last)
}
