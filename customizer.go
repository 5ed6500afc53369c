package berth

import (
	"github.com/berth-go/berth/network"
)

// Customizer gives a module's builder (postgres, redis, ...) the common
// container-builder methods. They are recorded and applied to the
// underlying ContainerBuilder at start; B is the module's builder type, which
// they return so calls chain. Embed it and set it up with NewCustomizer.
type Customizer[B any] struct {
	self B
	fns  []func(*ContainerBuilder)
}

// NewCustomizer returns a Customizer whose methods return self.
func NewCustomizer[B any](self B) Customizer[B] { return Customizer[B]{self: self} }

// Customize applies f to the underlying container builder at start, for
// anything the module has no method for (mounts, ports, CPUs, ...).
func (c *Customizer[B]) Customize(f func(*ContainerBuilder)) B {
	c.fns = append(c.fns, f)
	return c.self
}

// Env sets an environment variable of the container.
func (c *Customizer[B]) Env(key, value string) B {
	return c.Customize(func(b *ContainerBuilder) { b.Env(key, value) })
}

// Network joins the container to net with aliases other containers on net
// can resolve.
func (c *Customizer[B]) Network(net *network.Network, aliases ...string) B {
	return c.Customize(func(b *ContainerBuilder) { b.Network(net, aliases...) })
}

// Label adds a label to the container.
func (c *Customizer[B]) Label(key, value string) B {
	return c.Customize(func(b *ContainerBuilder) { b.Label(key, value) })
}

// Name names the container.
func (c *Customizer[B]) Name(name string) B {
	return c.Customize(func(b *ContainerBuilder) { b.Name(name) })
}

// Memory limits the container's memory in bytes.
func (c *Customizer[B]) Memory(bytes int64) B {
	return c.Customize(func(b *ContainerBuilder) { b.Memory(bytes) })
}

// ApplyTo applies every recorded call to cb, in order.
func (c *Customizer[B]) ApplyTo(cb *ContainerBuilder) {
	for _, f := range c.fns {
		f(cb)
	}
}
