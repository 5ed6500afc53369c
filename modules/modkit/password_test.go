package modkit_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/berth-go/berth/modules/modkit"
)

func TestRandomPassword(t *testing.T) {
	a, b := modkit.RandomPassword(), modkit.RandomPassword()
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{24}$`), a)
	assert.NotEqual(t, a, b)
}
