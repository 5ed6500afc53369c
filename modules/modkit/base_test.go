package modkit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/modules/modkit"
)

// The builder under test is Cache, of example_test.go.

func TestBaseImage(t *testing.T) {
	b := NewCache(nil)
	assert.Equal(t, "cache:7", b.ImageRef())
	assert.Same(t, b, b.Image("registry.example:5000/cache:8"))
	assert.Equal(t, "registry.example:5000/cache:8", b.ImageRef())
	require.NoError(t, b.Err())

	for _, ref := range []string{"", "Upper:1", "cache:bad tag", "cache@sha256:short"} {
		b := NewCache(nil).Image(ref)
		require.ErrorIs(t, b.Err(), modkit.ErrInvalidInput, "%q", ref)
		assert.ErrorContains(t, b.Err(), "cache: Image: invalid input: ", "%q", ref)
		assert.ErrorContains(t, b.Err(), "the module's default is cache:7", "%q", ref)
		assert.Equal(t, "cache:7", b.ImageRef(), "a bad reference leaves the image")
	}
}

func TestBaseFirstErrorWins(t *testing.T) {
	cause := errors.New("no such thing")
	b := NewCache(nil).Password("").Check("Other", cause).Image("")
	require.ErrorIs(t, b.Err(), modkit.ErrInvalidInput)
	assert.EqualError(t, b.Err(), "cache: Password: invalid input: the password must not be empty")

	b = NewCache(nil).Check("Other", nil).Check("Other", cause)
	require.ErrorIs(t, b.Err(), cause, "Check wraps its error")
	assert.EqualError(t, b.Err(), "cache: Other: invalid input: no such thing")
}

func TestBaseFormatHidesSecrets(t *testing.T) {
	b := NewCache(nil).Password("s3cret").Image("cache:8")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.Equal(t, "cache.Builder(cache:8)", fmt.Sprintf(verb, b), verb)
	}
	assert.Equal(t, `"cache.Builder(cache:8)"`, fmt.Sprintf("%q", b))
}

func TestBaseSet(t *testing.T) {
	b := NewCache(nil)
	assert.Same(t, b, b.Set("Password", &b.password, "s3cret", modkit.CheckPassword))
	assert.Equal(t, "s3cret", b.password)
	require.NoError(t, b.Err())

	assert.Same(t, b, b.Set("Password", &b.password, "", modkit.CheckPassword))
	assert.Equal(t, "s3cret", b.password, "bad input leaves the field")
	require.ErrorIs(t, b.Err(), modkit.ErrInvalidInput)
	assert.EqualError(t, b.Err(), "cache: Password: invalid input: the password must not be empty")
}

func TestBaseStartContainerReturnsErrFirst(t *testing.T) {
	b := NewCache(nil).Password("")
	c, at, err := b.StartContainer(context.Background(), func() *berth.ContainerBuilder {
		t.Error("a builder with bad input describes no container")
		return nil
	}, "1/tcp")
	require.ErrorIs(t, err, modkit.ErrInvalidInput)
	assert.Equal(t, b.Err(), err)
	assert.Nil(t, c)
	assert.Zero(t, at)
}
