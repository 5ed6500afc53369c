package modkit

import (
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
// The module's own methods record bad input with Fail or Check, naming the
// call; the first one wins, and the module's StartE returns Err before
// anything is created.
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

// Err is the first error recorded by the builder's calls.
func (b *Base[B]) Err() error { return b.err }

// Format prints the builder as <module>.Builder(<image>) in every verb.
func (b *Base[B]) Format(f fmt.State, verb rune) {
	container.PrintSafe(f, verb, b.module+".Builder("+b.image+")")
}
