package modkit

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/registry"
)

// ErrInvalidInput is matched (errors.Is) by every error a Base records: a
// builder call given bad input. The modules' own ErrInvalidInput is this
// value, so one check serves them all.
var ErrInvalidInput = errors.New("invalid input")

// Base is what a module's builder embeds: the container builder's common
// calls (berth.Customizer: Env, Network, Label, Name, Memory, Customize),
// Image to replace the module's default image, Err, and a Format that
// prints only the module and the image, so no secret the builder holds
// reaches a log through fmt. Set it up with NewBase in the module's New.
//
// The module's own methods record bad input with Fail, Check or Set,
// naming the call; the first one wins, and the module's StartE returns Err
// before anything is created (StartContainer does that for it).
type Base[B any] struct {
	berth.Customizer[B]
	self   B
	module string
	image  string
	err    error
}

// NewBase returns the Base of self, a builder of module (the name every
// error starts with, e.g. "postgres") whose default image is image.
func NewBase[B any](self B, module, image string) Base[B] {
	return Base[B]{Customizer: berth.NewCustomizer(self), self: self, module: module, image: image}
}

// Image replaces the module's default image; the image must behave like
// the one the module is written for. A reference that does not parse is
// bad input.
func (b *Base[B]) Image(ref string) B {
	if _, err := registry.ParseReference(ref); err != nil {
		return b.Check("Image", fmt.Errorf("%w (the module's default is %s)", err, b.image))
	}
	b.image = ref
	return b.self
}

// ImageRef is the image the container is made from: the default or the
// one given to Image.
func (b *Base[B]) ImageRef() string { return b.image }

// Check records err, when it is not nil and no error is recorded yet, as
// bad input of call: "<module>: <call>: invalid input: <err>", matching
// ErrInvalidInput and err. It returns the builder, so a module's method
// can end with it.
func (b *Base[B]) Check(call string, err error) B {
	if err != nil && b.err == nil {
		b.err = fmt.Errorf("%s: %s: %w: %w", b.module, call, ErrInvalidInput, err)
	}
	return b.self
}

// Fail is Check with an error made from format and args, for a method that
// finds the bad input itself. Keep secrets out of args.
func (b *Base[B]) Fail(call, format string, args ...any) B {
	return b.Check(call, fmt.Errorf(format, args...))
}

// Set stores value in *field when check accepts it; otherwise it records
// check's error as bad input of call, like Check, and leaves *field. It
// returns the builder, so a module's setter is one line:
//
//	func (b *Builder) User(name string) *Builder { return b.Set("User", &b.user, name, checkName) }
func (b *Base[B]) Set(call string, field *string, value string, check func(string) error) B {
	if err := check(value); err != nil {
		return b.Check(call, err)
	}
	*field = value
	return b.self
}

// Describe returns the container describe makes (the module's own
// settings) with the builder's common calls (Env, Network, Label, ...)
// applied after them: what the module's Spec shows and StartContainer
// starts.
func (b *Base[B]) Describe(describe func() *berth.ContainerBuilder) *berth.ContainerBuilder {
	cb := describe()
	b.ApplyTo(cb)
	return cb
}

// StartContainer is where a module's StartE begins: it returns Err when a
// call recorded bad input, before anything is described or made;
// otherwise it starts Describe(describe) with Start and returns the
// container and the Address of port.
func (b *Base[B]) StartContainer(ctx context.Context, describe func() *berth.ContainerBuilder, port string) (*berth.Container, Address, error) {
	if b.err != nil {
		return nil, Address{}, b.err
	}
	return Start(ctx, b.module, b.Describe(describe), port)
}

// Err is the first error recorded by the builder's calls.
func (b *Base[B]) Err() error { return b.err }

// Format prints the builder as <module>.Builder(<image>) in every verb.
func (b *Base[B]) Format(f fmt.State, verb rune) {
	container.PrintSafe(f, verb, b.module+".Builder("+b.image+")")
}
