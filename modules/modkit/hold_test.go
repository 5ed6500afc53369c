package modkit_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/berth-go/berth/modules/modkit"
)

type slot struct {
	holder   string
	released bool
}

func (s *slot) Release()       { s.released = true }
func (s *slot) String() string { return "slot of " + s.holder }

func TestHoldReleasesWhenTheTestEnds(t *testing.T) {
	var got *slot
	t.Run("user", func(t *testing.T) {
		got = modkit.Hold(t, "kv", func(ctx context.Context, holder string) (*slot, error) {
			assert.NoError(t, ctx.Err(), "the test's context")
			return &slot{holder: holder}, nil
		})
		assert.False(t, got.released)
	})
	assert.Equal(t, "TestHoldReleasesWhenTheTestEnds/user", got.holder)
	assert.True(t, got.released)
}
