package postgres

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// RFC 7677, section 3: the SCRAM-SHA-256 example exchange.
func TestSCRAMRFC7677(t *testing.T) {
	s := &scramClient{password: "pencil", nonce: "rOprNGfwEbeRWgbNEkqO", clientBare: "n=user,r=rOprNGfwEbeRWgbNEkqO"}
	final, err := s.clientFinal("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
	require.NoError(t, err)
	assert.Equal(t, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", final)
	require.NoError(t, s.verifyServer("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="))
	assert.Error(t, s.verifyServer("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="), "a forged server signature")
	assert.Error(t, s.verifyServer("e=invalid-proof"))
}

func TestSCRAMServerFirst(t *testing.T) {
	tests := []struct {
		name, msg string
		ok        bool
	}{
		{"valid", "r=abcXYZ,s=c2FsdA==,i=4096", true},
		{"extension ignored", "r=abcXYZ,s=c2FsdA==,i=4096,x=y", true},
		{"no nonce", "s=c2FsdA==,i=4096", false},
		{"bad salt", "r=abcXYZ,s=!!,i=4096", false},
		{"no salt", "r=abcXYZ,i=4096", false},
		{"zero iterations", "r=abcXYZ,s=c2FsdA==,i=0", false},
		{"huge iterations", "r=abcXYZ,s=c2FsdA==,i=999999999", false},
		{"not a number", "r=abcXYZ,s=c2FsdA==,i=many", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := parseServerFirst(tt.msg)
			assert.Equal(t, tt.ok, err == nil, "%v", err)
		})
	}
	s, err := newSCRAM("pw")
	require.NoError(t, err)
	_, err = s.clientFinal("r=someoneelse,s=c2FsdA==,i=4096")
	assert.ErrorContains(t, err, "nonce")
	_, err = s.clientFinal("r=" + s.nonce + ",s=c2FsdA==,i=4096")
	assert.ErrorContains(t, err, "nonce", "the server must add to the nonce")
}

func TestMD5Password(t *testing.T) {
	// Computed independently: "md5" + md5hex(md5hex("secret"+"alice") + salt).
	assert.Equal(t, "md598a0412b9c31436fc53776e863350083", md5Password("alice", "secret", []byte{1, 2, 3, 4}))
}

func TestParseError(t *testing.T) {
	body := []byte("SFATAL\x00VFATAL\x00C28P01\x00Mpassword authentication failed for user \"app\"\x00Dsome detail\x00Hsome hint\x00\x00")
	err := parseError(body)
	var se *ServerError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, ServerError{Severity: "FATAL", Code: "28P01", Message: `password authentication failed for user "app"`, Detail: "some detail", Hint: "some hint"}, *se)
	assert.Equal(t, `FATAL: password authentication failed for user "app" (SQLSTATE 28P01); some detail; hint: some hint`, se.Error())
	assert.ErrorContains(t, parseError([]byte("Mno terminator")), "malformed")
}

func TestParseDataRow(t *testing.T) {
	var m []byte
	m = binary.BigEndian.AppendUint16(m, 3)
	m = binary.BigEndian.AppendUint32(m, 1)
	m = append(m, '1')
	m = binary.BigEndian.AppendUint32(m, 0xFFFFFFFF) // NULL
	m = binary.BigEndian.AppendUint32(m, 2)
	m = append(m, "ab"...)
	row, err := parseDataRow(m)
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "", "ab"}, row)
	_, err = parseDataRow(m[:len(m)-1])
	assert.Error(t, err)
	_, err = parseDataRow([]byte{0})
	assert.Error(t, err)
}

func TestReadMessageBounds(t *testing.T) {
	huge := []byte{'D', 0x7F, 0xFF, 0xFF, 0xFF}
	_, _, err := readMessage(bufio.NewReader(bytes.NewReader(huge)))
	assert.ErrorContains(t, err, "bad message length")
	_, _, err = readMessage(bufio.NewReader(bytes.NewReader([]byte{'Z', 0, 0, 0, 3})))
	assert.ErrorContains(t, err, "bad message length")
	_, _, err = readMessage(bufio.NewReader(bytes.NewReader([]byte{'Z', 0, 0, 0, 9, 1})))
	assert.ErrorContains(t, err, "truncated")
	_, _, err = readMessage(bufio.NewReader(bytes.NewReader(nil)))
	assert.ErrorContains(t, err, "closed by the server")
}

// fakeServer answers one connection with script, after reading the
// startup message; it returns what the client sent after that.
func fakeServer(t *testing.T, script func(r *bufio.Reader, w net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		var n [4]byte
		if _, err := io.ReadFull(r, n[:]); err != nil {
			return
		}
		rest := make([]byte, binary.BigEndian.Uint32(n[:])-4)
		if _, err := io.ReadFull(r, rest); err != nil {
			return
		}
		script(r, c)
	}()
	return ln.Addr().String()
}

func msg(typ byte, body []byte) []byte {
	out := append([]byte{typ}, binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))...)
	return append(out, body...)
}

func authMsg(code uint32, data []byte) []byte {
	return msg('R', append(binary.BigEndian.AppendUint32(nil, code), data...))
}

func TestDialMD5AndQuery(t *testing.T) {
	got := make(chan string, 1)
	addr := fakeServer(t, func(r *bufio.Reader, w net.Conn) {
		w.Write(authMsg(5, []byte{1, 2, 3, 4}))
		typ, body, err := readMessage(r)
		if err != nil || typ != 'p' {
			return
		}
		got <- string(bytes.TrimRight(body, "\x00"))
		w.Write(authMsg(0, nil))
		w.Write(msg('S', []byte("server_version\x0015\x00")))
		w.Write(msg('Z', []byte{'I'}))
		if typ, body, _ = readMessage(r); typ != 'Q' || string(body) != "SELECT 1\x00" {
			return
		}
		row := binary.BigEndian.AppendUint16(nil, 1)
		row = binary.BigEndian.AppendUint32(row, 1)
		w.Write(msg('T', []byte{0, 0}))
		w.Write(msg('D', append(row, '1')))
		w.Write(msg('C', []byte("SELECT 1\x00")))
		w.Write(msg('Z', []byte{'I'}))
	})
	ctx := t.Context()
	c, err := dialPG(ctx, addr, "alice", "secret", "db")
	require.NoError(t, err)
	defer c.close()
	assert.Equal(t, "md598a0412b9c31436fc53776e863350083", <-got)
	rows, err := c.query(ctx, "SELECT 1")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"1"}}, rows)
}

func TestDialErrors(t *testing.T) {
	tests := []struct {
		name   string
		script func(r *bufio.Reader, w net.Conn)
		want   string
	}{
		{"server error", func(r *bufio.Reader, w net.Conn) {
			w.Write(msg('E', []byte("SFATAL\x00C57P03\x00Mthe database system is starting up\x00\x00")))
		}, "starting up"},
		{"unsupported auth", func(r *bufio.Reader, w net.Conn) { w.Write(authMsg(7, nil)) }, "method 7"},
		{"unsupported SASL", func(r *bufio.Reader, w net.Conn) { w.Write(authMsg(10, []byte("SCRAM-SHA-256-PLUS\x00\x00"))) }, "no supported SASL"},
		{"SASL out of order", func(r *bufio.Reader, w net.Conn) { w.Write(authMsg(11, []byte("r=x"))) }, "before SASL start"},
		{"closed", func(r *bufio.Reader, w net.Conn) {}, "closed by the server"},
		{"not postgres", func(r *bufio.Reader, w net.Conn) { w.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")) }, "not a PostgreSQL server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := fakeServer(t, tt.script)
			_, err := dialPG(t.Context(), addr, "u", "the-password", "db")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "the-password")
		})
	}
}

func TestDialHonoursContext(t *testing.T) {
	addr := fakeServer(t, func(r *bufio.Reader, w net.Conn) { time.Sleep(5 * time.Second) })
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := dialPG(ctx, addr, "u", "p", "db")
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	assert.Less(t, time.Since(start), 2*time.Second)
}

// FuzzBackendMessages feeds arbitrary server bytes to the message reader
// and the parsers of error, data-row and SCRAM messages: none may panic,
// and no message may be larger than maxMessage.
func FuzzBackendMessages(f *testing.F) {
	f.Add(msg('E', []byte("SFATAL\x00C28P01\x00Mbad\x00\x00")))
	f.Add(msg('D', []byte{0, 1, 0, 0, 0, 1, '1'}))
	f.Add(authMsg(10, []byte("SCRAM-SHA-256\x00\x00")))
	f.Add(authMsg(11, []byte("r=abc,s=c2FsdA==,i=1")))
	f.Add([]byte{'D', 0xFF, 0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		for {
			typ, body, err := readMessage(r)
			if err != nil {
				return
			}
			if len(body) > maxMessage {
				t.Fatalf("message of %d bytes accepted", len(body))
			}
			switch typ {
			case 'E':
				_ = parseError(body).Error()
			case 'D':
				parseDataRow(body)
			case 'R':
				if len(body) >= 4 {
					hasMechanism(body[4:], "SCRAM-SHA-256")
					// Key derivation is slow by design: skip big counts.
					if _, _, iter, err := parseServerFirst(string(body[4:])); err == nil && iter <= 64 {
						s := &scramClient{password: "p", nonce: "n", clientBare: "n=,r=n"}
						if final, err := s.clientFinal(string(body[4:])); err == nil && !strings.Contains(final, ",p=") {
							t.Fatalf("client-final without proof: %q", final)
						}
					}
				}
			}
		}
	})
}
