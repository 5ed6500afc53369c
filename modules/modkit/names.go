package modkit

import (
	"errors"
	"fmt"
	"strings"
)

// CheckName is the rule for a name a module hands its server to make, a
// database's or a user's, which the image's entrypoint pastes into SQL:
// not empty, at most limit bytes (the server's), and none of the
// characters in refused (those that would end or escape the name there,
// and NUL).
func CheckName(name string, limit int, refused string) error {
	switch {
	case name == "":
		return errors.New("the name must not be empty")
	case len(name) > limit:
		return fmt.Errorf("%q is longer than the server's %d-byte limit", name, limit)
	}
	if i := strings.IndexAny(name, refused); i >= 0 {
		return fmt.Errorf("%q contains %q, which the server's scripts cannot take", name, name[i:i+1])
	}
	return nil
}
