package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A frame of exactly MaxFrame bytes is allowed; one byte more is not.
func TestDemuxFrameLimitIsInclusive(t *testing.T) {
	header := func(size uint32) []byte {
		h := []byte{byte(StreamStdout), 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(h[4:], size)
		return h
	}
	var out bytes.Buffer
	in := io.MultiReader(bytes.NewReader(header(MaxFrame)), io.LimitReader(zeros{}, MaxFrame))
	require.NoError(t, Demux(in, &out, io.Discard))
	assert.Equal(t, MaxFrame, out.Len())

	err := Demux(bytes.NewReader(header(MaxFrame+1)), io.Discard, io.Discard)
	assert.ErrorIs(t, err, ErrFrameTooLarge)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// An error message that only the errorDetail carries is the error's
// message, with its code.
func TestStreamErrorFromDetailAlone(t *testing.T) {
	err := DecodeStream(strings.NewReader(`{"status":"pulling"}`+"\n"+`{"errorDetail":{"code":401,"message":"unauthorized: authentication required"}}`+"\n"), nil)
	var se *StreamError
	require.True(t, errors.As(err, &se), "got %v", err)
	assert.Equal(t, "unauthorized: authentication required", se.Message)
	assert.Equal(t, 401, se.Code)
	assert.ErrorIs(t, err, ErrUnauthorized)

	// Both: the top-level message wins.
	err = DecodeStream(strings.NewReader(`{"error":"pull failed","errorDetail":{"code":500,"message":"detail"}}`), nil)
	require.True(t, errors.As(err, &se))
	assert.Equal(t, "pull failed", se.Message)
}

// API versions compare by number, part by part; a missing part is 0.
func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.41", "1.41", 0},
		{"1.9", "1.41", -1},
		{"1.41", "1.9", 1},
		{"1.41", "1.41.1", -1},
		{"1.41.1", "1.41", 1},
		{"1.41.0", "1.41", 0},
		{"2", "1.99", 1},
	} {
		assert.Equal(t, c.want, compareVersions(c.a, c.b), "%s vs %s", c.a, c.b)
	}
}
