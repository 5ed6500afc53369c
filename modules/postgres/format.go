package postgres

import (
	"fmt"

	"github.com/berth-go/berth/container"
)

// Format prints the image only, in every verb: the builder holds the
// password.
func (b *Builder) Format(f fmt.State, verb rune) {
	container.PrintSafe(f, verb, "postgres.Builder("+b.image+")")
}

// Format prints the container only, in every verb: the handle holds the
// password.
func (c *Container) Format(f fmt.State, verb rune) { c.Container.Format(f, verb) }
