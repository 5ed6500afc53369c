package container

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Printing is safe: types that hold env values, commands or credentials
// implement fmt.Formatter, so no verb (%+v and %#v included) reaches their
// fields by reflection. PrintSafe is the one way they print.

// PrintSafe writes s for every verb: quoted for %q, as is otherwise. A
// type holding secrets implements Format with it and a description that
// holds none.
func PrintSafe(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = fmt.Sprintf("%q", s)
	}
	_, _ = f.Write([]byte(s))
}

// Format prints the spec with its environment's names but not its values,
// and the command's first word and length but not its arguments, which
// may carry passwords.
func (s Spec) Format(f fmt.State, verb rune) { PrintSafe(f, verb, "container.Spec{"+s.summary()+"}") }

func (s Spec) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Image: %s", s.Image)
	if s.Name != "" {
		fmt.Fprintf(&b, ", Name: %s", s.Name)
	}
	if len(s.Env) > 0 {
		keys := slices.Sorted(maps.Keys(s.Env))
		fmt.Fprintf(&b, ", Env: %v (values hidden)", keys)
	}
	for _, c := range []struct {
		name string
		args []string
	}{{"Entrypoint", s.Entrypoint}, {"Cmd", s.Cmd}} {
		if len(c.args) > 0 {
			fmt.Fprintf(&b, ", %s: %s (+%d args hidden)", c.name, c.args[0], len(c.args)-1)
		}
	}
	if len(s.Ports) > 0 {
		fmt.Fprintf(&b, ", Ports: %v", s.Ports)
	}
	if len(s.Mounts) > 0 {
		fmt.Fprintf(&b, ", Mounts: %d", len(s.Mounts))
	}
	if len(s.Files) > 0 {
		fmt.Fprintf(&b, ", Files: %d", len(s.Files))
	}
	return b.String()
}

// Format prints String for every verb.
func (c *Container) Format(f fmt.State, verb rune) { PrintSafe(f, verb, c.String()) }
