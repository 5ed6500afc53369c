package rabbitmq

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func frame(class, id uint16, args []byte) []byte {
	var b bytes.Buffer
	writeMethod(&b, class, id, args)
	return b.Bytes()
}

func TestReadMethod(t *testing.T) {
	// A heartbeat first is skipped.
	in := append([]byte{8, 0, 0, 0, 0, 0, 0, 0xce}, frame(10, 30, []byte{0, 7, 0, 2, 0, 0, 0, 60})...)
	m, err := readMethod(bytes.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, method{class: 10, id: 30, args: []byte{0, 7, 0, 2, 0, 0, 0, 60}}, m)

	// Connection.Close's code and text.
	args := binary.BigEndian.AppendUint16(nil, 403)
	args = shortStr(args, "ACCESS_REFUSED - Login was refused")
	args = append(args, 0, 10, 0, 11)
	m, err = readMethod(bytes.NewReader(frame(10, 50, args)))
	require.NoError(t, err)
	var ae *AMQPError
	require.ErrorAs(t, closeError(m.args), &ae)
	assert.Equal(t, &AMQPError{Code: 403, Text: "ACCESS_REFUSED - Login was refused"}, ae)

	// A broker that wants another protocol answers with its header.
	_, err = readMethod(bytes.NewReader([]byte("AMQP\x00\x00\x09\x01")))
	assert.ErrorContains(t, err, "protocol version")

	// Bounded: a huge frame size is refused before reading it.
	_, err = readMethod(bytes.NewReader([]byte{1, 0, 0, 0x7f, 0xff, 0xff, 0xff}))
	assert.ErrorContains(t, err, "more than a handshake needs")

	// A missing end marker.
	bad := frame(10, 41, nil)
	bad[len(bad)-1] = 0
	_, err = readMethod(bytes.NewReader(bad))
	assert.ErrorContains(t, err, "end marker")
}

func FuzzReadMethod(f *testing.F) {
	f.Add(frame(10, 10, []byte{0, 9, 0, 0, 0, 0}))
	f.Add([]byte{8, 0, 0, 0, 0, 0, 0, 0xce})
	f.Add([]byte("AMQP\x00\x00\x09\x01"))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := readMethod(bytes.NewReader(in))
		if err == nil {
			closeError(m.args)
		}
	})
}
