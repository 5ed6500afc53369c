package berth

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/berth-go/berth/container"
)

// Format prints the builder's spec without env values, command arguments
// or credentials, in every verb.
func (b *ContainerBuilder) Format(f fmt.State, verb rune) {
	auth := ""
	if b.keychain != nil {
		auth = ", Auth: set (hidden)"
	}
	container.PrintSafe(f, verb, fmt.Sprintf("berth.ContainerBuilder(%v%s)", b.spec, auth))
}

// Format prints the build's context and tags, the registries it has
// credentials for but not the credentials, nor build-arg values, in
// every verb.
func (b *BuildBuilder) Format(f fmt.State, verb rune) {
	var parts []string
	if d := b.bc.Dir(); d != "" {
		parts = append(parts, "Dir: "+d)
	} else {
		parts = append(parts, "in-memory context")
	}
	if len(b.opts.Tags) > 0 {
		parts = append(parts, fmt.Sprintf("Tags: %v", b.opts.Tags))
	}
	if len(b.opts.Args) > 0 {
		parts = append(parts, fmt.Sprintf("Args: %v (values hidden)", slices.Sorted(maps.Keys(b.opts.Args))))
	}
	if len(b.auths) > 0 {
		parts = append(parts, fmt.Sprintf("Auth: %v (hidden)", slices.Sorted(maps.Keys(b.auths))))
	}
	container.PrintSafe(f, verb, "berth.BuildBuilder("+strings.Join(parts, ", ")+")")
}

// Format prints the container for every verb (see container.Container).
func (c *Container) Format(f fmt.State, verb rune) { c.Container.Format(f, verb) }
