package modkit_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/internal/tests/netstub"
	"github.com/berth-go/berth/modules/modkit"
)

func TestDialBoundsReads(t *testing.T) {
	addr := netstub.Hung(t)
	conn, err := modkit.Dial(context.Background(), addr, 100*time.Millisecond)
	require.NoError(t, err)
	defer conn.Close()
	start := time.Now()
	_, err = conn.Read(make([]byte, 1))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestDialEndsWithContext(t *testing.T) {
	addr := netstub.Hung(t)
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := modkit.Dial(ctx, addr, time.Minute)
	require.NoError(t, err)
	defer conn.Close()
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = conn.Read(make([]byte, 1))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second, "the cancel, not the minute, ends the read")

	_, err = modkit.Dial(ctx, addr, time.Minute)
	require.ErrorIs(t, err, context.Canceled, "a dead ctx dials nothing")
}

func TestDialTakesTheEarlierDeadline(t *testing.T) {
	addr := netstub.Hung(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	conn, err := modkit.Dial(ctx, addr, time.Minute)
	require.NoError(t, err)
	defer conn.Close()
	dl := time.Now().Add(5 * time.Second)
	_, err = conn.Read(make([]byte, 1))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.True(t, time.Now().Before(dl))
}

func TestReadLine(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		limit    int
		want     []string
		err      error
		errText  string
	}{
		{name: "lines", in: "+OK\r\nPONG\n", limit: 10, want: []string{"+OK\r\n", "PONG\n"}, err: io.EOF},
		{name: "empty input", in: "", limit: 10, err: io.EOF},
		{name: "cut line", in: "PON", limit: 10, err: io.ErrUnexpectedEOF},
		{name: "at the limit", in: "12345678\r\n", limit: 10, want: []string{"12345678\r\n"}, err: io.EOF},
		{name: "over the limit", in: "123456789\r\n", limit: 10, errText: "a line longer than 10 bytes"},
		// Longer than the reader's buffer of 16 bytes: fragments join.
		{name: "longer than the buffer", in: strings.Repeat("x", 40) + "\n", limit: 100, want: []string{strings.Repeat("x", 40) + "\n"}, err: io.EOF},
		{name: "endless", in: strings.Repeat("x", 1000), limit: 100, errText: "a line longer than 100 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bufio.NewReaderSize(strings.NewReader(tc.in), 16)
			var got []string
			for {
				line, err := modkit.ReadLine(r, tc.limit)
				if err != nil {
					if tc.errText != "" {
						assert.EqualError(t, err, tc.errText)
					} else {
						assert.ErrorIs(t, err, tc.err)
					}
					break
				}
				got = append(got, line)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func FuzzReadLine(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "INFO {}\r\nPONG\r\n", "", "x", strings.Repeat("y", 300)} {
		f.Add([]byte(s), 64)
	}
	f.Fuzz(func(t *testing.T, in []byte, limit int) {
		limit = max(1, limit%1024)
		r := bufio.NewReaderSize(strings.NewReader(string(in)), 16)
		read := 0
		for {
			line, err := modkit.ReadLine(r, limit)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "longer than") {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(line) > limit || !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
				t.Fatalf("line %q with limit %d", line, limit)
			}
			if string(in[read:read+len(line)]) != line {
				t.Fatalf("line %q is not the input at %d", line, read)
			}
			read += len(line)
		}
	})
}
