package engine_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/engine"
)

func TestWithResponseTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { // takes the call, never answers
				defer conn.Close()
				go io.Copy(io.Discard, conn)
				<-done
			}()
		}
	}()
	c, err := engine.New(engine.WithHost("tcp://"+ln.Addr().String()), engine.WithResponseTimeout(300*time.Millisecond))
	require.NoError(t, err)
	defer c.Close()
	start := time.Now()
	_, err = c.Version(context.Background())
	assert.ErrorIs(t, err, engine.ErrNoResponse)
	assert.ErrorIs(t, err, engine.ErrDaemonUnreachable)
	assert.Contains(t, err.Error(), ln.Addr().String())
	assert.Less(t, time.Since(start), 3*time.Second)
}
