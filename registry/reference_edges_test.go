package registry

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The edges of every character class and length limit of references.
func TestParseReferenceEdges(t *testing.T) {
	for _, in := range []string{
		"localhost/" + strings.Repeat("a", 245),      // a name of 255, the most
		"redis@sha256:" + strings.Repeat("09af", 16), // each end of the hex digits
		"redis:09azAZ_",               // each end of a tag's characters
		"app09az",                     // each end of a path's characters
		"example.com:09/app",          // each end of a port's digits
		strings.Repeat("a", 63) + "g", // 64 characters, not all hex: a name
	} {
		_, err := ParseReference(in)
		assert.NoError(t, err, "%.40s", in)
	}
	zeros := strings.Repeat("0", 63)
	for _, tt := range []struct{ in, part string }{
		{"localhost/" + strings.Repeat("a", 246), "name"},
		{"redis@sha256:" + zeros + "g", "digest"},
		{"redis@sha256:" + zeros + "/", "digest"},
		{"redis@sha256:" + zeros + ":", "digest"},
		{"redis@sha256:" + zeros + "`", "digest"},
		{zeros + "f", "reference"},
		{"redis:x`", "tag"},
		{"redis:x{", "tag"},
		{"redis:x[", "tag"},
		{"redis:x@", "digest"},
		{"ap`p", "path"},
		{"ap{p", "path"},
		{"ap/p:", "tag"},
	} {
		_, err := ParseReference(tt.in)
		var re *ReferenceError
		if assert.True(t, errors.As(err, &re), "%q: want *ReferenceError, got %v", tt.in, err) {
			assert.Equal(t, tt.part, re.Part, "%q: %v", tt.in, err)
		}
	}
}

// Names in messages are quoted whole up to 80 bytes.
func TestReferenceMessagesQuoteNamesUpTo80Bytes(t *testing.T) {
	// "library/" and the name make the path the message quotes.
	_, err := ParseReference("A" + strings.Repeat("a", 71))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"library/A`+strings.Repeat("a", 71)+`" must be lowercase`)
	_, err = ParseReference("A" + strings.Repeat("a", 72))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"library/A`+strings.Repeat("a", 71)+`"... must be lowercase`)
}
