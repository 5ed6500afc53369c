package redis

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendCommand(t *testing.T) {
	assert.Equal(t, "*1\r\n$4\r\nPING\r\n", string(appendCommand(nil, "PING")))
	assert.Equal(t, "*2\r\n$4\r\nAUTH\r\n$6\r\np w\r\nx\r\n", string(appendCommand(nil, "AUTH", "p w\r\nx")))
	assert.Equal(t, "*2\r\n$4\r\nAUTH\r\n$0\r\n\r\n", string(appendCommand(nil, "AUTH", "")))
}

func TestReadReply(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
		auth    bool
	}{
		{"pong", "+PONG\r\n", "PONG", "", false},
		{"ok then more", "+OK\r\n+PONG\r\n", "OK", "", false},
		{"wrongpass", "-WRONGPASS invalid username-password pair\r\n", "", "WRONGPASS", true},
		{"noauth", "-NOAUTH Authentication required.\r\n", "", "NOAUTH", true},
		{"other error", "-LOADING Redis is loading the dataset in memory\r\n", "", "LOADING", false},
		{"closed", "", "", "connection closed", false},
		{"no CR", "+PONG\n", "", "malformed", false},
		{"bulk", "$4\r\nPONG\r\n", "", "unexpected reply", false},
		{"truncated", "+PO", "", "EOF", false},
		{"too long", "+" + strings.Repeat("x", 5000) + "\r\n", "", "longer than", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readReply(bufio.NewReaderSize(strings.NewReader(tt.in), 16))
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			var re *replyError
			assert.Equal(t, tt.auth, errors.As(err, &re) && re.Auth())
		})
	}
}

// FuzzReadReply feeds arbitrary server bytes to the reply reader: it must
// never panic, and a successful read is always a '+' line.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"+PONG\r\n", "-ERR x\r\n", "$4\r\nPONG\r\n", "+\r\n", "", "\r\n", "+" + strings.Repeat("a", 600) + "\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := readReply(bufio.NewReaderSize(strings.NewReader(in), 16))
		if err != nil {
			return
		}
		if !strings.HasPrefix(in, "+"+got+"\r\n") {
			t.Fatalf("read %q from %q", got, in)
		}
		if strings.ContainsAny(got, "\n") {
			t.Fatalf("reply %q spans lines", got)
		}
	})
}
