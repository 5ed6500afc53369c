package mysql

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/berth-go/berth/modules/modkit"
)

// The readiness check's side of the MySQL client/server protocol: the
// handshake, a login with mysql_native_password or caching_sha2_password,
// and COM_PING. Enough to prove the server takes the user's logins; no
// queries.

// maxPacket bounds a packet the check reads; a handshake is ~100 bytes.
const maxPacket = 64 << 10

// ServerError is an error packet of the server.
type ServerError struct {
	Code    uint16
	State   string
	Message string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("mysql: error %d (%s): %s", e.Code, e.State, e.Message)
}

type packetConn struct {
	conn net.Conn
	seq  byte
}

func (c *packetConn) read() ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(c.conn, h[:]); err != nil {
		return nil, err
	}
	n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
	if n > maxPacket {
		return nil, fmt.Errorf("mysql: a %d-byte packet, more than a login needs", n)
	}
	c.seq = h[3] + 1
	p := make([]byte, n)
	if _, err := io.ReadFull(c.conn, p); err != nil {
		return nil, err
	}
	if len(p) > 0 && p[0] == 0xff {
		return nil, parseError(p)
	}
	return p, nil
}

func (c *packetConn) write(p []byte) error {
	h := []byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), c.seq}
	c.seq++
	_, err := c.conn.Write(append(h, p...))
	return err
}

func parseError(p []byte) error {
	e := &ServerError{}
	if len(p) >= 3 {
		e.Code = binary.LittleEndian.Uint16(p[1:3])
	}
	rest := p[min(len(p), 3):]
	if len(rest) >= 6 && rest[0] == '#' {
		e.State, rest = string(rest[1:6]), rest[6:]
	}
	e.Message = string(rest)
	return e
}

const (
	clientLongPassword     = 0x1
	clientConnectWithDB    = 0x8
	clientProtocol41       = 0x200
	clientTransactions     = 0x2000
	clientSecureConnection = 0x8000
	clientPluginAuth       = 0x80000
)

// ping logs in as user to database and sends COM_PING. A refused login
// or an unknown database is Permanent: waiting will not help.
func ping(ctx context.Context, addr, user, password, database string) error {
	conn, err := modkit.Dial(ctx, addr, 3*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	pc := &packetConn{conn: conn}
	done, err := login(pc, user, password, database)
	var se *ServerError
	if errors.As(err, &se) && (se.Code == 1045 || se.Code == 1044 || se.Code == 1049) {
		// access denied (user, database), unknown database
		return modkit.Permanent(err)
	}
	if err != nil || !done {
		return err
	}
	pc.seq = 0
	if err := pc.write([]byte{0x0e}); err != nil {
		return err
	}
	p, err := pc.read()
	if err != nil {
		return err
	}
	if len(p) == 0 || p[0] != 0x00 {
		return fmt.Errorf("mysql: COM_PING answered %#x", p[:min(len(p), 1)])
	}
	return nil
}

// login reports done when the server accepted the login, and false
// (without an error) when it wants the full password over a channel the
// check does not open (see below): the server is up either way.
func login(pc *packetConn, user, password, database string) (done bool, err error) {
	p, err := pc.read()
	if err != nil {
		return false, fmt.Errorf("no handshake from the server (not up yet): %w", err)
	}
	scramble, plugin, err := parseHandshake(p)
	if err != nil {
		return false, err
	}
	auth, err := authResponse(plugin, password, scramble)
	if err != nil {
		return false, err
	}
	var r bytes.Buffer
	binary.Write(&r, binary.LittleEndian, uint32(clientLongPassword|clientConnectWithDB|clientProtocol41|
		clientTransactions|clientSecureConnection|clientPluginAuth))
	binary.Write(&r, binary.LittleEndian, uint32(1<<24))
	r.WriteByte(45) // utf8mb4_general_ci
	r.Write(make([]byte, 23))
	r.WriteString(user)
	r.WriteByte(0)
	r.WriteByte(byte(len(auth)))
	r.Write(auth)
	r.WriteString(database)
	r.WriteByte(0)
	r.WriteString(plugin)
	r.WriteByte(0)
	if err := pc.write(r.Bytes()); err != nil {
		return false, err
	}
	for range 4 {
		p, err := pc.read()
		if err != nil {
			return false, err
		}
		switch {
		case len(p) == 0:
			return false, errors.New("mysql: an empty packet during login")
		case p[0] == 0x00:
			return true, nil
		case p[0] == 0xfe: // auth switch: plugin name, then its data
			name, data, _ := bytes.Cut(p[1:], []byte{0})
			plugin, scramble = string(name), bytes.TrimSuffix(data, []byte{0})
			auth, err := authResponse(plugin, password, scramble)
			if err != nil {
				return false, err
			}
			if err := pc.write(auth); err != nil {
				return false, err
			}
		case p[0] == 0x01 && len(p) == 2 && p[1] == 0x03: // caching_sha2: fast path passed
		case p[0] == 0x01 && len(p) == 2 && p[1] == 0x04:
			// caching_sha2 wants the password in full, which needs TLS or
			// the server's RSA key. The server is up and knows the user;
			// the password is proven by the client's first login. No
			// COM_PING: the server waits for the password now.
			return false, nil
		default:
			return false, fmt.Errorf("mysql: unexpected packet %#x during login", p[0])
		}
	}
	return false, errors.New("mysql: login did not end after 4 exchanges")
}

func parseHandshake(p []byte) (scramble []byte, plugin string, err error) {
	bad := fmt.Errorf("mysql: a malformed handshake (%d bytes)", len(p))
	if len(p) < 1 {
		return nil, "", bad
	}
	if p[0] != 10 {
		return nil, "", fmt.Errorf("mysql: handshake protocol %d, want 10", p[0])
	}
	i := bytes.IndexByte(p[1:], 0)
	if i < 0 {
		return nil, "", bad
	}
	rest := p[1+i+1:] // after the server version
	if len(rest) < 4+8+1+2+1+2+2+1+10 {
		return nil, "", bad
	}
	scramble = append(scramble, rest[4:12]...)
	dataLen := int(rest[4+8+1+2+1+2+2])
	rest = rest[4+8+1+2+1+2+2+1+10:]
	n := max(13, dataLen-8)
	if len(rest) < n {
		return nil, "", bad
	}
	scramble = append(scramble, bytes.TrimSuffix(rest[:n], []byte{0})...)
	rest = rest[n:]
	name, _, _ := bytes.Cut(rest, []byte{0})
	plugin = string(name)
	if plugin == "" {
		plugin = "mysql_native_password"
	}
	return scramble, plugin, nil
}

func authResponse(plugin, password string, scramble []byte) ([]byte, error) {
	if password == "" {
		return nil, nil
	}
	switch plugin {
	case "mysql_native_password":
		// SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password)))
		h1 := sha1.Sum([]byte(password))
		h2 := sha1.Sum(h1[:])
		h := sha1.New()
		h.Write(scramble)
		h.Write(h2[:])
		out := h.Sum(nil)
		for i := range out {
			out[i] ^= h1[i]
		}
		return out, nil
	case "caching_sha2_password":
		// SHA256(password) XOR SHA256(SHA256(SHA256(password)) + scramble)
		h1 := sha256.Sum256([]byte(password))
		h2 := sha256.Sum256(h1[:])
		h := sha256.New()
		h.Write(h2[:])
		h.Write(scramble)
		out := h.Sum(nil)
		for i := range out {
			out[i] ^= h1[i]
		}
		return out, nil
	}
	return nil, fmt.Errorf("mysql: the server wants auth plugin %q, which the readiness check does not speak", plugin)
}
