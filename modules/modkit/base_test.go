package modkit_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/modules/modkit"
)

// kv is a module's builder as small as it gets.
type kv struct {
	s      modkit.Scope
	secret string
	modkit.Base[*kv]
}

func newKV(s modkit.Scope) *kv {
	b := &kv{s: s}
	b.Base = modkit.NewBase(b, "kv", "kv:1")
	return b
}

func (b *kv) Secret(v string) *kv {
	if v == "" {
		return b.Fail("Secret", "the secret must not be empty")
	}
	b.secret = v
	return b
}

func TestBaseImage(t *testing.T) {
	b := newKV(nil)
	assert.Equal(t, "kv:1", b.ImageRef())
	assert.Same(t, b, b.Image("registry.example:5000/kv:2"))
	assert.Equal(t, "registry.example:5000/kv:2", b.ImageRef())
	require.NoError(t, b.Err())

	for _, ref := range []string{"", "Upper:1", "kv:bad tag", "kv@sha256:short"} {
		b := newKV(nil).Image(ref)
		require.ErrorIs(t, b.Err(), modkit.ErrInvalidInput, "%q", ref)
		assert.ErrorContains(t, b.Err(), "kv: Image: invalid input: ", "%q", ref)
		assert.ErrorContains(t, b.Err(), "the module's default is kv:1", "%q", ref)
		assert.Equal(t, "kv:1", b.ImageRef(), "a bad reference leaves the image")
	}
}

func TestBaseFirstErrorWins(t *testing.T) {
	cause := errors.New("no such thing")
	b := newKV(nil).Secret("").Check("Other", cause).Image("")
	require.ErrorIs(t, b.Err(), modkit.ErrInvalidInput)
	assert.EqualError(t, b.Err(), "kv: Secret: invalid input: the secret must not be empty")

	b = newKV(nil).Check("Other", nil).Check("Other", cause)
	require.ErrorIs(t, b.Err(), cause, "Check wraps its error")
	assert.EqualError(t, b.Err(), "kv: Other: invalid input: no such thing")
}

func TestBaseFormatHidesSecrets(t *testing.T) {
	b := newKV(nil).Secret("s3cret").Image("kv:2")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, b)
		assert.Equal(t, "kv.Builder(kv:2)", out, verb)
	}
	assert.Equal(t, `"kv.Builder(kv:2)"`, fmt.Sprintf("%q", b))
}
