package postgres

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// This file is a minimal client of the PostgreSQL frontend/backend
// protocol (version 3): startup, password authentication (SCRAM-SHA-256,
// MD5, cleartext, trust) and simple queries. It lets the module check
// readiness and take snapshots over the mapped port in milliseconds without
// linking a driver; running psql through the engine's exec costs 100-300 ms
// a call. Tests use a real driver.

// maxMessage bounds a backend message: the module's queries return a few
// bytes.
const maxMessage = 1 << 20

// ServerError is an error reported by the server (an ErrorResponse).
type ServerError struct {
	Severity string // ERROR, FATAL, PANIC
	Code     string // SQLSTATE, e.g. 28P01 for a wrong password
	Message  string
	Detail   string
	Hint     string
}

func (e *ServerError) Error() string {
	s := fmt.Sprintf("%s: %s (SQLSTATE %s)", e.Severity, e.Message, e.Code)
	if e.Detail != "" {
		s += "; " + e.Detail
	}
	if e.Hint != "" {
		s += "; hint: " + e.Hint
	}
	return s
}

// pgConn is one protocol connection.
type pgConn struct {
	nc net.Conn
	r  *bufio.Reader
}

// dialPG connects to addr and authenticates user on database. The
// password never appears in its errors.
func dialPG(ctx context.Context, addr, user, password, database string) (*pgConn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &pgConn{nc: nc, r: bufio.NewReaderSize(nc, 4096)}
	stop := c.bound(ctx)
	defer stop()
	if err := c.startup(user, password, database); err != nil {
		nc.Close()
		return nil, ctxError(ctx, err)
	}
	return c, nil
}

// ctxError reports ctx's end rather than the I/O timeout it caused: the
// connection's deadline is ctx's, and can fire a moment before ctx does.
func ctxError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	var ne net.Error
	if d, ok := ctx.Deadline(); ok && errors.As(err, &ne) && ne.Timeout() && time.Until(d) < 50*time.Millisecond {
		return fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
	}
	return err
}

// ioTimeout bounds one exchange when ctx has no earlier deadline.
const ioTimeout = 60 * time.Second

// bound makes the connection's I/O end with ctx (or after ioTimeout).
func (c *pgConn) bound(ctx context.Context) (stop func() bool) {
	deadline := time.Now().Add(ioTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.nc.SetDeadline(deadline)
	return context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
}

func (c *pgConn) close() error {
	c.nc.Write([]byte{'X', 0, 0, 0, 4}) // Terminate
	return c.nc.Close()
}

func (c *pgConn) startup(user, password, database string) error {
	var body []byte
	body = binary.BigEndian.AppendUint32(body, 196608) // protocol 3.0
	for _, kv := range [][2]string{{"user", user}, {"database", database}, {"application_name", "berth"}} {
		body = append(append(body, kv[0]...), 0)
		body = append(append(body, kv[1]...), 0)
	}
	body = append(body, 0)
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))
	if _, err := c.nc.Write(append(msg, body...)); err != nil {
		return err
	}
	var scram *scramClient
	for {
		typ, m, err := readMessage(c.r)
		if err != nil {
			return err
		}
		switch typ {
		case 'E':
			return parseError(m)
		case 'R':
			if len(m) < 4 {
				return errors.New("postgres protocol: short authentication message")
			}
			code, data := binary.BigEndian.Uint32(m), m[4:]
			switch code {
			case 0: // AuthenticationOk
			case 3: // cleartext
				err = c.send('p', append([]byte(password), 0))
			case 5: // MD5 with a 4-byte salt
				if len(data) != 4 {
					return errors.New("postgres protocol: bad MD5 salt")
				}
				err = c.send('p', append([]byte(md5Password(user, password, data)), 0))
			case 10: // SASL: mechanisms offered
				if !hasMechanism(data, "SCRAM-SHA-256") {
					return fmt.Errorf("postgres protocol: no supported SASL mechanism offered (%q)", bytes.ReplaceAll(data, []byte{0}, []byte{' '}))
				}
				if scram, err = newSCRAM(password); err != nil {
					return err
				}
				first := scram.clientFirst()
				p := append([]byte("SCRAM-SHA-256"), 0)
				p = binary.BigEndian.AppendUint32(p, uint32(len(first)))
				err = c.send('p', append(p, first...))
			case 11: // SASL continue: server-first-message
				if scram == nil {
					return errors.New("postgres protocol: SASL continue before SASL start")
				}
				var final string
				if final, err = scram.clientFinal(string(data)); err != nil {
					return err
				}
				err = c.send('p', []byte(final))
			case 12: // SASL final: server signature
				if scram == nil {
					return errors.New("postgres protocol: SASL final before SASL start")
				}
				err = scram.verifyServer(string(data))
			default:
				return fmt.Errorf("postgres protocol: authentication method %d is not supported", code)
			}
			if err != nil {
				return err
			}
		case 'Z': // ReadyForQuery
			return nil
		case 'S', 'K', 'N': // parameter status, backend key, notice
		default:
			return fmt.Errorf("postgres protocol: unexpected message %q during startup", typ)
		}
	}
}

// query runs one statement (simple query protocol) and returns the rows as
// text (NULL as "").
func (c *pgConn) query(ctx context.Context, sql string) ([][]string, error) {
	stop := c.bound(ctx)
	defer stop()
	rows, err := c.queryLocked(sql)
	if err != nil && ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return rows, err
}

func (c *pgConn) queryLocked(sql string) ([][]string, error) {
	if err := c.send('Q', append([]byte(sql), 0)); err != nil {
		return nil, err
	}
	var rows [][]string
	var qerr error
	for {
		typ, m, err := readMessage(c.r)
		if err != nil {
			return nil, err
		}
		switch typ {
		case 'D':
			row, err := parseDataRow(m)
			if err != nil {
				return nil, err
			}
			rows = append(rows, row)
		case 'E':
			qerr = parseError(m)
		case 'Z':
			return rows, qerr
		case 'T', 'C', 'I', 'N', 'S':
		default:
			return nil, fmt.Errorf("postgres protocol: unexpected message %q", typ)
		}
	}
}

func (c *pgConn) send(typ byte, body []byte) error {
	msg := make([]byte, 0, 5+len(body))
	msg = append(msg, typ)
	msg = binary.BigEndian.AppendUint32(msg, uint32(len(body)+4))
	_, err := c.nc.Write(append(msg, body...))
	return err
}

// readMessage reads one backend message: a type byte, a length counting
// itself, the body.
func readMessage(r *bufio.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, fmt.Errorf("postgres protocol: connection closed by the server: %w", err)
		}
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n < 4 || n-4 > maxMessage {
		return 0, nil, fmt.Errorf("postgres protocol: bad message length %d (type %q): not a PostgreSQL server?", n, hdr[0])
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, fmt.Errorf("postgres protocol: truncated message: %w", err)
	}
	return hdr[0], body, nil
}

// parseError decodes an ErrorResponse body: (code byte, C string)* 0.
func parseError(m []byte) error {
	e := &ServerError{}
	for len(m) > 0 && m[0] != 0 {
		code := m[0]
		end := bytes.IndexByte(m[1:], 0)
		if end < 0 {
			return errors.New("postgres protocol: malformed error message")
		}
		v := string(m[1 : 1+end])
		m = m[2+end:]
		switch code {
		case 'S':
			e.Severity = v
		case 'C':
			e.Code = v
		case 'M':
			e.Message = v
		case 'D':
			e.Detail = v
		case 'H':
			e.Hint = v
		}
	}
	return e
}

// parseDataRow decodes a DataRow body: int16 count, then per column an
// int32 length (-1 for NULL) and the bytes.
func parseDataRow(m []byte) ([]string, error) {
	bad := errors.New("postgres protocol: malformed data row")
	if len(m) < 2 {
		return nil, bad
	}
	n := int(binary.BigEndian.Uint16(m))
	m = m[2:]
	row := make([]string, 0, min(n, 64))
	for range n {
		if len(m) < 4 {
			return nil, bad
		}
		l := int32(binary.BigEndian.Uint32(m))
		m = m[4:]
		if l < 0 {
			row = append(row, "")
			continue
		}
		if int(l) > len(m) {
			return nil, bad
		}
		row = append(row, string(m[:l]))
		m = m[l:]
	}
	return row, nil
}

func hasMechanism(list []byte, want string) bool {
	for _, m := range bytes.Split(list, []byte{0}) {
		if string(m) == want {
			return true
		}
	}
	return false
}

// md5Password is "md5" + md5hex(md5hex(password + user) + salt).
func md5Password(user, password string, salt []byte) string {
	inner := md5.Sum([]byte(password + user))
	outer := md5.Sum(append([]byte(hex.EncodeToString(inner[:])), salt...))
	return "md5" + hex.EncodeToString(outer[:])
}

// scramClient is the client side of SCRAM-SHA-256 (RFC 5802, RFC 7677)
// without channel binding, as PostgreSQL speaks it. The password is used
// as given (no SASLprep): PostgreSQL does the same for passwords that are
// not valid UTF-8 and for ASCII ones.
type scramClient struct {
	password    string
	nonce       string
	clientBare  string
	authMessage string
	saltedPass  []byte
}

func newSCRAM(password string) (*scramClient, error) {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	s := &scramClient{password: password, nonce: base64.RawStdEncoding.EncodeToString(b[:])}
	// PostgreSQL takes the user name from the startup message.
	s.clientBare = "n=,r=" + s.nonce
	return s, nil
}

func (s *scramClient) clientFirst() string { return "n,," + s.clientBare }

// parseServerFirst reads "r=<nonce>,s=<base64 salt>,i=<iterations>".
func parseServerFirst(msg string) (nonce string, salt []byte, iter int, err error) {
	for _, part := range strings.Split(msg, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		switch k {
		case "r":
			nonce = v
		case "s":
			if salt, err = base64.StdEncoding.DecodeString(v); err != nil {
				return "", nil, 0, fmt.Errorf("SCRAM: bad salt: %w", err)
			}
		case "i":
			if iter, err = strconv.Atoi(v); err != nil {
				return "", nil, 0, fmt.Errorf("SCRAM: bad iteration count %q", v)
			}
		}
	}
	if nonce == "" || len(salt) == 0 || iter < 1 || iter > 10_000_000 {
		return "", nil, 0, fmt.Errorf("SCRAM: incomplete server-first-message %.80q", msg)
	}
	return nonce, salt, iter, nil
}

func (s *scramClient) clientFinal(serverFirst string) (string, error) {
	nonce, salt, iter, err := parseServerFirst(serverFirst)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(nonce, s.nonce) || len(nonce) == len(s.nonce) {
		return "", errors.New("SCRAM: the server's nonce does not extend ours")
	}
	s.saltedPass, err = pbkdf2.Key(sha256.New, s.password, salt, iter, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("SCRAM: %w", err)
	}
	withoutProof := "c=biws,r=" + nonce // biws = base64("n,,")
	s.authMessage = s.clientBare + "," + serverFirst + "," + withoutProof
	clientKey := hmacSHA256(s.saltedPass, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	sig := hmacSHA256(storedKey[:], s.authMessage)
	proof := make([]byte, len(clientKey))
	for i := range clientKey {
		proof[i] = clientKey[i] ^ sig[i]
	}
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
}

func (s *scramClient) verifyServer(serverFinal string) error {
	v, ok := strings.CutPrefix(serverFinal, "v=")
	if !ok {
		return fmt.Errorf("SCRAM: unexpected server-final-message %.80q", serverFinal)
	}
	got, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return fmt.Errorf("SCRAM: bad server signature: %w", err)
	}
	want := hmacSHA256(hmacSHA256(s.saltedPass, "Server Key"), s.authMessage)
	if !hmac.Equal(got, want) {
		return errors.New("SCRAM: the server's signature does not match: not the server we expected")
	}
	return nil
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}
