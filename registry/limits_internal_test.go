package registry

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The position a config error names is where the reader finds the fault:
// lines and columns from 1, an offset at or past the end on the last
// character's line.
func TestLineCol(t *testing.T) {
	for _, tt := range []struct {
		data      string
		offset    int64
		line, col int
	}{
		{"abc", 0, 1, 1},
		{"abc", 2, 1, 2},
		{"abc", 3, 1, 3},
		{"ab\ncd", 3, 2, 1},
		{"ab\ncd", 4, 2, 1},
		{"ab\ncd", 5, 2, 2},
		{"ab\ncd", 99, 2, 2},
		{"\n\n", 2, 3, 1},
		{"a\nb\nc\nd", 7, 4, 1},
	} {
		line, col := lineCol([]byte(tt.data), tt.offset)
		assert.Equal(t, [2]int{tt.line, tt.col}, [2]int{line, col}, "%q at %d", tt.data, tt.offset)
	}
}

// A bad reference is quoted whole up to 300 bytes, and cut past it.
func TestReferenceErrorQuoteLength(t *testing.T) {
	exact := strings.Repeat("a", 300)
	e := &ReferenceError{Input: exact, Part: "name", Reason: "is bad"}
	assert.Equal(t, `invalid image reference "`+exact+`": name is bad`, e.Error())
	e.Input = exact + "b"
	assert.Equal(t, `invalid image reference "`+exact+`...": name is bad`, e.Error())
}
