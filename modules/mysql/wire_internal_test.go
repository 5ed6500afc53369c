package mysql

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeServer is the server side of the exchanges ping makes: a handshake
// offering plugin, a check of the client's scramble for password, then
// what login and ping want to answer.
type fakeServer struct {
	plugin   string // offered in the handshake
	switchTo string // if set: an auth switch request to this plugin
	password string
	fullAuth bool   // caching_sha2: ask for the full password
	pingErr  bool   // answer COM_PING with an error packet
	gotUser  string // what the client sent
	gotDB    string
}

var scramble = []byte("abcdefghij0123456789")

func writePacket(t *testing.T, c net.Conn, seq byte, p []byte) {
	h := []byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), seq}
	_, err := c.Write(append(h, p...))
	require.NoError(t, err)
}

func readPacket(t *testing.T, c net.Conn) (byte, []byte) {
	pc := &packetConn{conn: c}
	p, err := pc.read()
	require.NoError(t, err)
	return pc.seq - 1, p
}

func handshakePacket(plugin string) []byte {
	var b bytes.Buffer
	b.WriteByte(10)
	b.WriteString("5.5.5-10.11.0-fake\x00")
	binary.Write(&b, binary.LittleEndian, uint32(7))
	b.Write(scramble[:8])
	b.WriteByte(0)
	binary.Write(&b, binary.LittleEndian, uint16(0xf7ff))
	b.WriteByte(45)
	binary.Write(&b, binary.LittleEndian, uint16(2))
	binary.Write(&b, binary.LittleEndian, uint16(0x81ff))
	b.WriteByte(21)
	b.Write(make([]byte, 10))
	b.Write(scramble[8:])
	b.WriteByte(0)
	b.WriteString(plugin + "\x00")
	return b.Bytes()
}

func want(plugin, password string) []byte {
	out, _ := authResponse(plugin, password, scramble)
	return out
}

func errPacket(code uint16, msg string) []byte {
	p := []byte{0xff}
	p = binary.LittleEndian.AppendUint16(p, code)
	return append(append(p, "#28000"...), msg...)
}

func (f *fakeServer) serve(t *testing.T, c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	writePacket(t, c, 0, handshakePacket(f.plugin))
	seq, resp := readPacket(t, c)
	// capabilities, max packet, charset, filler: 32 bytes
	rest := resp[32:]
	user, rest, _ := bytes.Cut(rest, []byte{0})
	f.gotUser = string(user)
	n := int(rest[0])
	auth := rest[1 : 1+n]
	db, rest, _ := bytes.Cut(rest[1+n:], []byte{0})
	f.gotDB = string(db)
	plugin, _, _ := bytes.Cut(rest, []byte{0})
	assert.Equal(t, f.plugin, string(plugin))
	next := seq + 1
	if f.switchTo != "" {
		writePacket(t, c, next, append(append([]byte{0xfe}, f.switchTo+"\x00"...), append(scramble, 0)...))
		seq, auth = readPacket(t, c)
		next = seq + 1
		plugin = []byte(f.switchTo)
	}
	if !bytes.Equal(auth, want(string(plugin), f.password)) {
		writePacket(t, c, next, errPacket(1045, "Access denied for user"))
		return
	}
	if string(plugin) == "caching_sha2_password" {
		if f.fullAuth {
			writePacket(t, c, next, []byte{0x01, 0x04})
			return
		}
		writePacket(t, c, next, []byte{0x01, 0x03})
		next++
	}
	writePacket(t, c, next, []byte{0x00, 0, 0, 2, 0, 0, 0})
	_, cmd := readPacket(t, c)
	assert.Equal(t, []byte{0x0e}, cmd, "COM_PING")
	if f.pingErr {
		writePacket(t, c, 1, errPacket(1053, "Server shutdown in progress"))
		return
	}
	writePacket(t, c, 1, []byte{0x00, 0, 0, 2, 0, 0, 0})
}

func runFake(t *testing.T, f *fakeServer, password string) error {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err == nil {
			f.serve(t, c)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = ping(ctx, l.Addr().String(), "app", password, "shop")
	<-done
	return err
}

func TestPingNativePassword(t *testing.T) {
	f := &fakeServer{plugin: "mysql_native_password", password: "pw"}
	require.NoError(t, runFake(t, f, "pw"))
	assert.Equal(t, "app", f.gotUser)
	assert.Equal(t, "shop", f.gotDB)
}

func TestPingCachingSHA2(t *testing.T) {
	require.NoError(t, runFake(t, &fakeServer{plugin: "caching_sha2_password", password: "pw"}, "pw"))
	// Full authentication needs TLS or RSA: the server is up, which is
	// what readiness asks.
	require.NoError(t, runFake(t, &fakeServer{plugin: "caching_sha2_password", password: "pw", fullAuth: true}, "pw"))
}

func TestPingAuthSwitch(t *testing.T) {
	f := &fakeServer{plugin: "caching_sha2_password", switchTo: "mysql_native_password", password: "pw"}
	require.NoError(t, runFake(t, f, "pw"))
}

func TestPingRefused(t *testing.T) {
	err := runFake(t, &fakeServer{plugin: "mysql_native_password", password: "right"}, "wrong")
	var se *ServerError
	require.ErrorAs(t, err, &se)
	assert.EqualValues(t, 1045, se.Code)
	assert.Equal(t, "28000", se.State)
	var perm interface{ Unwrap() error }
	assert.True(t, errors.As(err, &perm), "a refused login is permanent")
	assert.NotContains(t, err.Error(), "wrong")
}

func TestPingAnswersError(t *testing.T) {
	err := runFake(t, &fakeServer{plugin: "mysql_native_password", password: "pw", pingErr: true}, "pw")
	var se *ServerError
	require.ErrorAs(t, err, &se)
	assert.EqualValues(t, 1053, se.Code, "COM_PING's answer counts")
}

func TestNativeScramble(t *testing.T) {
	// The documented formula, computed the long way.
	h1 := sha1.Sum([]byte("secret"))
	h2 := sha1.Sum(h1[:])
	h3 := sha1.Sum(append(append([]byte{}, scramble...), h2[:]...))
	wantNative := make([]byte, 20)
	for i := range wantNative {
		wantNative[i] = h1[i] ^ h3[i]
	}
	assert.Equal(t, wantNative, want("mysql_native_password", "secret"))
	s1 := sha256.Sum256([]byte("secret"))
	s2 := sha256.Sum256(s1[:])
	s3 := sha256.Sum256(append(s2[:], scramble...))
	wantSHA := make([]byte, 32)
	for i := range wantSHA {
		wantSHA[i] = s1[i] ^ s3[i]
	}
	assert.Equal(t, wantSHA, want("caching_sha2_password", "secret"))
	assert.Empty(t, want("mysql_native_password", ""), "an empty password sends nothing")
	_, err := authResponse("dialog", "x", scramble)
	assert.ErrorContains(t, err, `"dialog"`)
}

func FuzzParseHandshake(f *testing.F) {
	f.Add(handshakePacket("mysql_native_password"))
	f.Add([]byte{10, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		parseHandshake(p)
		parseError(p)
	})
}
