package modkit_test

import (
	"errors"
	"fmt"

	"github.com/berth-go/berth/modules/modkit"
)

// Cache is a module's builder: its own settings, and Image, Err, Env,
// Network, Label, Name, Memory and Customize from the Base it embeds.
type Cache struct {
	s        modkit.Scope
	password string
	modkit.Base[*Cache]
}

// NewCache is the module's New.
func NewCache(s modkit.Scope) *Cache {
	b := &Cache{s: s}
	b.Base = modkit.NewBase(b, "cache", "cache:7")
	return b
}

// Password is one of the module's own calls: bad input goes to Fail.
func (b *Cache) Password(pw string) *Cache {
	if pw == "" {
		return b.Fail("Password", "the password must not be empty")
	}
	b.password = pw
	return b
}

func ExampleBase() {
	b := NewCache(nil).Password("s3cret").Image("cache:8")
	fmt.Println(b, b.ImageRef(), b.Err()) // the password never prints

	b = NewCache(nil).Password("")
	fmt.Println(b.Err())
	fmt.Println(errors.Is(b.Err(), modkit.ErrInvalidInput))
	// Output:
	// cache.Builder(cache:8) cache:8 <nil>
	// cache: Password: invalid input: the password must not be empty
	// true
}
