package modkit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/berth-go/berth/modules/modkit"
)

func TestCheckName(t *testing.T) {
	assert.NoError(t, modkit.CheckName("orders_2", 8, `'"`))
	assert.EqualError(t, modkit.CheckName("", 8, `'"`), "the name must not be empty")
	assert.EqualError(t, modkit.CheckName("orders_23", 8, `'"`), `"orders_23" is longer than the server's 8-byte limit`)
	assert.EqualError(t, modkit.CheckName(`a"b`, 8, `'"`), `"a\"b" contains "\"", which the server's scripts cannot take`)
	assert.EqualError(t, modkit.CheckName("a\x00b", 8, "\x00"), `"a\x00b" contains "\x00", which the server's scripts cannot take`)
}
