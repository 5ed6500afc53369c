package container

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The stream tarWriter writes reads back with archive/tar, entry for entry.
func TestTarWriterRoundTrip(t *testing.T) {
	mtime := time.Unix(1700000000, 0)
	long := strings.Repeat("d/", 60) + "file.txt"
	entries := []struct {
		e       tarEntry
		content string
	}{
		{tarEntry{Name: "empty", Type: tarTypeReg, Mode: 0o644, ModTime: mtime}, ""},
		{tarEntry{Name: "one", Type: tarTypeReg, Mode: 0o600, Size: 1}, "x"},
		{tarEntry{Name: "block", Type: tarTypeReg, Mode: 0o4755, Size: 512}, strings.Repeat("b", 512)},
		{tarEntry{Name: "block-and-one", Type: tarTypeReg, Mode: 0o644, Size: 513}, strings.Repeat("c", 513)},
		{tarEntry{Name: "dir/", Type: tarTypeDir, Mode: 0o1777}, ""},
		{tarEntry{Name: "link", Type: tarTypeSymlink, Mode: 0o777, Linkname: "block"}, ""},
		{tarEntry{Name: "fifo", Type: tarTypeFifo, Mode: 0o600}, ""},
		{tarEntry{Name: long, Type: tarTypeReg, Mode: 0o644, Size: 4}, "long"},
		{tarEntry{Name: "schéma/données.sql", Type: tarTypeReg, Mode: 0o644, Size: 2}, "ok"},
		{tarEntry{Name: "far", Type: tarTypeSymlink, Mode: 0o777, Linkname: "/" + strings.Repeat("t/", 70) + "target"}, ""},
		{tarEntry{Name: "before-1970", Type: tarTypeReg, Mode: 0o644, ModTime: time.Unix(-5, 0)}, ""},
	}
	var buf bytes.Buffer
	tw := newTarWriter(&buf)
	for _, x := range entries {
		require.NoError(t, tw.WriteHeader(x.e))
		_, err := io.WriteString(tw, x.content)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	assert.Zero(t, buf.Len()%tarBlock)

	tr := tar.NewReader(&buf)
	for _, x := range entries {
		hdr, err := tr.Next()
		require.NoError(t, err, x.e.Name)
		assert.Equal(t, x.e.Name, hdr.Name)
		assert.Equal(t, x.e.Type, hdr.Typeflag, x.e.Name)
		assert.Equal(t, x.e.Mode, hdr.Mode, x.e.Name)
		assert.Equal(t, x.e.Linkname, hdr.Linkname, x.e.Name)
		assert.Equal(t, int64(len(x.content)), hdr.Size, x.e.Name)
		assert.Equal(t, 0, hdr.Uid)
		assert.Equal(t, 0, hdr.Gid)
		if x.e.ModTime.Unix() > 0 {
			assert.True(t, x.e.ModTime.Equal(hdr.ModTime), "%s: %v", x.e.Name, hdr.ModTime)
		}
		got, err := io.ReadAll(tr)
		require.NoError(t, err)
		assert.Equal(t, x.content, string(got), x.e.Name)
	}
	_, err := tr.Next()
	assert.ErrorIs(t, err, io.EOF)
}

// A size beyond ustar's 11 octal digits travels in a PAX record.
func TestTarWriterHugeSize(t *testing.T) {
	var buf bytes.Buffer
	tw := newTarWriter(&buf)
	const size = 10 << 30
	require.NoError(t, tw.WriteHeader(tarEntry{Name: "huge", Type: tarTypeReg, Mode: 0o644, Size: size}))
	hdr, err := tar.NewReader(&buf).Next()
	require.NoError(t, err)
	assert.Equal(t, int64(size), hdr.Size)
}

func TestTarWriterSizeMismatch(t *testing.T) {
	tw := newTarWriter(io.Discard)
	require.NoError(t, tw.WriteHeader(tarEntry{Name: "f", Type: tarTypeReg, Size: 3}))
	n, err := tw.Write([]byte("four"))
	assert.Equal(t, 3, n)
	assert.True(t, errors.Is(err, errTarWriteTooLong), "%v", err)

	tw = newTarWriter(io.Discard)
	require.NoError(t, tw.WriteHeader(tarEntry{Name: "f", Type: tarTypeReg, Size: 3}))
	_, err = tw.Write([]byte("ab"))
	require.NoError(t, err)
	assert.ErrorContains(t, tw.Close(), "1 bytes short")
}

// The length prefix of a PAX record counts its own digits.
func TestPAXRecordLength(t *testing.T) {
	for _, n := range []int{1, 5, 6, 7, 90, 94, 95, 96, 97, 990, 994, 995, 996} {
		r := paxRecord("path", strings.Repeat("a", n))
		lenField, _, ok := strings.Cut(r, " ")
		require.True(t, ok)
		got, err := strconv.Atoi(lenField)
		require.NoError(t, err)
		assert.Equal(t, len(r), got, "value of %d bytes", n)
	}
}
