package rabbitmq

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/berth-go/berth/modules/modkit"
)

// The readiness check's side of AMQP 0-9-1: the protocol header, a PLAIN
// login, tuning, opening the virtual host and closing again. Enough to
// prove the broker takes the user's connections; no channels.

// maxFrame bounds a frame the check reads; Connection.Start, the largest,
// is a few kilobytes.
const maxFrame = 128 << 10

// AMQPError is a Connection.Close sent by the broker, e.g. code 403
// (ACCESS_REFUSED) for a refused login or 530 (NOT_ALLOWED) for a virtual
// host the user may not open.
type AMQPError struct {
	Code uint16
	Text string
}

func (e *AMQPError) Error() string { return fmt.Sprintf("rabbitmq: %d %s", e.Code, e.Text) }

type method struct {
	class, id uint16
	args      []byte
}

func readMethod(r io.Reader) (method, error) {
	for {
		var h [7]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return method{}, err
		}
		if string(h[:4]) == "AMQP" {
			return method{}, errors.New("rabbitmq: the broker refused the protocol version (AMQP 0-9-1)")
		}
		size := binary.BigEndian.Uint32(h[3:7])
		if size > maxFrame {
			return method{}, fmt.Errorf("rabbitmq: a %d-byte frame, more than a handshake needs", size)
		}
		p := make([]byte, size+1)
		if _, err := io.ReadFull(r, p); err != nil {
			return method{}, err
		}
		if p[size] != 0xce {
			return method{}, errors.New("rabbitmq: a frame without its end marker")
		}
		switch h[0] {
		case 8: // heartbeat
			continue
		case 1:
		default:
			return method{}, fmt.Errorf("rabbitmq: frame type %d during the handshake", h[0])
		}
		if size < 4 {
			return method{}, errors.New("rabbitmq: a short method frame")
		}
		return method{class: binary.BigEndian.Uint16(p[0:2]), id: binary.BigEndian.Uint16(p[2:4]), args: p[4:size]}, nil
	}
}

func writeMethod(w io.Writer, class, id uint16, args []byte) error {
	f := make([]byte, 0, 12+len(args))
	f = append(f, 1, 0, 0)
	f = binary.BigEndian.AppendUint32(f, uint32(4+len(args)))
	f = binary.BigEndian.AppendUint16(f, class)
	f = binary.BigEndian.AppendUint16(f, id)
	f = append(f, args...)
	f = append(f, 0xce)
	_, err := w.Write(f)
	return err
}

func shortStr(b []byte, s string) []byte { return append(append(b, byte(len(s))), s...) }

func longStr(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint32(b, uint32(len(s))), s...)
}

// closeError reads Connection.Close's reply code and text.
func closeError(args []byte) error {
	e := &AMQPError{}
	if len(args) >= 3 {
		e.Code = binary.BigEndian.Uint16(args[0:2])
		n := int(args[2])
		e.Text = string(args[3:min(len(args), 3+n)])
	}
	return e
}

// handshake opens vhost as user and closes the connection again. A
// refused login or virtual host is Permanent.
func handshake(ctx context.Context, addr, user, password, vhost string) error {
	conn, err := modkit.Dial(ctx, addr, 3*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("AMQP\x00\x00\x09\x01")); err != nil {
		return err
	}
	m, err := readMethod(conn)
	if err != nil {
		return fmt.Errorf("no Connection.Start from the broker (not up yet): %w", err)
	}
	if m.class != 10 || m.id != 10 {
		return fmt.Errorf("rabbitmq: the broker opened with method %d.%d, not Connection.Start", m.class, m.id)
	}
	// Start-Ok: client properties asking for a Close on a refused login
	// (instead of a dropped connection), PLAIN, the credentials, a locale.
	var caps []byte
	caps = shortStr(caps, "authentication_failure_close")
	caps = append(caps, 't', 1)
	var props []byte
	props = shortStr(props, "capabilities")
	props = append(props, 'F')
	props = binary.BigEndian.AppendUint32(props, uint32(len(caps)))
	props = append(props, caps...)
	var args []byte
	args = binary.BigEndian.AppendUint32(args, uint32(len(props)))
	args = append(args, props...)
	args = shortStr(args, "PLAIN")
	args = longStr(args, "\x00"+user+"\x00"+password)
	args = shortStr(args, "en_US")
	m, err = call(conn, 11, args, 30, "Start-Ok", "Connection.Tune")
	if err != nil {
		return err
	}
	if len(m.args) < 8 {
		return fmt.Errorf("rabbitmq: a Connection.Tune of %d bytes, too short", len(m.args))
	}
	// Tune-Ok: the broker's channel and frame limits, no heartbeats.
	tune := append(bytes.Clone(m.args[:6]), 0, 0)
	if err := writeMethod(conn, 10, 31, tune); err != nil {
		return err
	}
	args = shortStr(nil, vhost)
	args = shortStr(args, "")
	args = append(args, 0)
	if _, err := call(conn, 40, args, 41, "Connection.Open", "Open-Ok"); err != nil {
		return err
	}
	args = binary.BigEndian.AppendUint16(nil, 200)
	args = shortStr(args, "berth readiness check done")
	args = append(args, 0, 0, 0, 0)
	if err := writeMethod(conn, 10, 50, args); err == nil {
		readMethod(conn) // Close-Ok; the broker is ready either way
	}
	return nil
}

// call sends Connection method id with args and reads the broker's answer,
// which must be Connection method want. A Connection.Close instead (a
// refused login or virtual host) is Permanent.
func call(conn io.ReadWriter, id uint16, args []byte, want uint16, sent, wanted string) (method, error) {
	if err := writeMethod(conn, 10, id, args); err != nil {
		return method{}, err
	}
	m, err := readMethod(conn)
	if err != nil {
		return method{}, err
	}
	switch {
	case m.class == 10 && m.id == 50:
		return method{}, modkit.Permanent(closeError(m.args))
	case m.class != 10 || m.id != want:
		return method{}, fmt.Errorf("rabbitmq: method %d.%d after %s, not %s", m.class, m.id, sent, wanted)
	}
	return m, nil
}
