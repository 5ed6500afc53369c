// Package network creates user-defined bridge networks for containers and
// changes their membership at run time: connect, disconnect, partition and
// heal, for tests that need DNS by alias or network faults.
package network

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/berth-go/berth/internal/wire"
)

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

// Network is a network on the engine.
type Network struct {
	client *wire.Client
	id     string
	name   string

	mu          sync.Mutex
	partitioned map[string][]string // container ID → aliases to restore
}

// Create makes a network.
func Create(ctx context.Context, c *wire.Client, o Options) (*Network, error) {
	if o.Name == "" {
		return nil, errors.New("network: a name is required")
	}
	if strings.ContainsAny(o.Name, "/ \t") {
		return nil, fmt.Errorf("network name %q: use letters, digits, '.', '_' and '-' only", o.Name)
	}
	driver := o.Driver
	if driver == "" {
		driver = "bridge"
	}
	id, err := c.NetworkCreate(ctx, wire.NetworkCreate{
		Name: o.Name, CheckDuplicate: true, Driver: driver, Internal: o.Internal,
		EnableIPv6: o.IPv6, Options: o.Options, Labels: o.Labels, Attachable: true,
	})
	if err != nil {
		if errors.Is(err, wire.ErrConflict) {
			return nil, fmt.Errorf("create network %s: a network with this name exists: pick another name: %w", o.Name, err)
		}
		return nil, fmt.Errorf("create network %s: %w", o.Name, err)
	}
	return &Network{client: c, id: id, name: o.Name}, nil
}

// ID is the network's ID.
func (n *Network) ID() string { return n.id }

// Name is the network's name; containers resolve each other by alias on it.
func (n *Network) Name() string { return n.name }

// String names the network for messages.
func (n *Network) String() string { return "network " + n.name }

// Connect attaches a running or stopped container with aliases.
func (n *Network) Connect(ctx context.Context, m Member, aliases ...string) error {
	if err := n.client.NetworkConnect(ctx, n.id, m.ID(), aliases); err != nil {
		return fmt.Errorf("connect %.12s to %s: %w", m.ID(), n.name, err)
	}
	return nil
}

// Disconnect detaches a container; its connections over this network fail
// from then on.
func (n *Network) Disconnect(ctx context.Context, m Member) error {
	if err := n.client.NetworkDisconnect(ctx, n.id, m.ID(), true); err != nil {
		return fmt.Errorf("disconnect %.12s from %s: %w", m.ID(), n.name, err)
	}
	return nil
}

// Partition cuts the given containers off this network, remembering their
// aliases so Heal can put them back as they were.
func (n *Network) Partition(ctx context.Context, members ...Member) error {
	info, err := n.client.NetworkInspect(ctx, n.id)
	if err != nil {
		return fmt.Errorf("partition %s: %w", n.name, err)
	}
	for _, m := range members {
		if _, ok := info.Containers[m.ID()]; !ok {
			return fmt.Errorf("partition %s: container %.12s is not on this network", n.name, m.ID())
		}
		aliases, err := n.aliases(ctx, m.ID())
		if err != nil {
			return err
		}
		if err := n.Disconnect(ctx, m); err != nil {
			return err
		}
		n.mu.Lock()
		if n.partitioned == nil {
			n.partitioned = map[string][]string{}
		}
		n.partitioned[m.ID()] = aliases
		n.mu.Unlock()
	}
	return nil
}

func (n *Network) aliases(ctx context.Context, id string) ([]string, error) {
	info, err := n.client.ContainerInspect(ctx, id)
	if err != nil {
		return nil, err
	}
	if info.NetworkSettings == nil {
		return nil, nil
	}
	for name, ep := range info.NetworkSettings.Networks {
		if ep != nil && (name == n.name || ep.NetworkID == n.id) {
			var out []string
			for _, a := range ep.Aliases {
				// The engine adds the short container ID as an alias.
				if !strings.HasPrefix(id, a) {
					out = append(out, a)
				}
			}
			return out, nil
		}
	}
	return nil, nil
}

// Heal reconnects every container Partition cut off, with its aliases.
func (n *Network) Heal(ctx context.Context) error {
	n.mu.Lock()
	cut := n.partitioned
	n.partitioned = nil
	n.mu.Unlock()
	var errs []error
	for id, aliases := range cut {
		if err := n.client.NetworkConnect(ctx, n.id, id, aliases); err != nil {
			errs = append(errs, fmt.Errorf("heal %s: reconnect %.12s: %w", n.name, id, err))
		}
	}
	return errors.Join(errs...)
}

// Remove disconnects every container still attached and removes the
// network. A network already gone is not an error.
func (n *Network) Remove(ctx context.Context) error {
	info, err := n.client.NetworkInspect(ctx, n.id)
	if errors.Is(err, wire.ErrNotFound) {
		return nil
	}
	if err == nil {
		for id := range info.Containers {
			n.client.NetworkDisconnect(ctx, n.id, id, true)
		}
	}
	err = n.client.NetworkRemove(ctx, n.id)
	if errors.Is(err, wire.ErrNotFound) {
		return nil
	}
	return err
}
