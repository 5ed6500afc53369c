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

func TestDefaultPassword(t *testing.T) {
	assert.Equal(t, modkit.WarmPassword, modkit.DefaultPassword(true), "a stable server, a stable password")
	a, b := modkit.DefaultPassword(false), modkit.DefaultPassword(false)
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{24}$`), a)
	assert.NotEqual(t, a, b, "each other server gets its own")
}

func TestCheckPassword(t *testing.T) {
	assert.NoError(t, modkit.CheckPassword("pa ss'w\"o$rd"))
	for pw, want := range map[string]string{
		"":            "the password must not be empty",
		"hunter2\x00": "the password must not contain NUL or line breaks",
		"hunter2\n":   "the password must not contain NUL or line breaks",
		"hun\rter2":   "the password must not contain NUL or line breaks",
	} {
		err := modkit.CheckPassword(pw)
		assert.EqualError(t, err, want, "%q", pw)
	}
}
