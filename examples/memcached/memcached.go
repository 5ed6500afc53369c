// Package memcached is the worked example of docs/modules.md: a berth
// module of one's own, for memcached, on top of modules/modkit.
package memcached

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/modules/modkit"
)

// Image is an image that behaves like the official memcached image.
const Image = "memcached:1.6"

// Port is memcached's port inside the container.
const Port = "11211/tcp"

// Builder describes a memcached server.
type Builder struct {
	s        modkit.Scope
	memoryMB int
	// Env, Network, Label, Name, Memory and Customize for the container.
	berth.Customizer[*Builder]
}

// New describes a server in s (a *berth.Harness or a *berth.Session).
func New(s modkit.Scope) *Builder {
	b := &Builder{s: s, memoryMB: 64}
	b.Customizer = berth.NewCustomizer(b)
	return b
}

// MemoryMB sets the cache size (memcached -m), 64 by default.
func (b *Builder) MemoryMB(n int) *Builder { b.memoryMB = n; return b }

// StartE starts the server and waits until it answers "version".
func (b *Builder) StartE(ctx context.Context) (*Container, error) {
	if b.memoryMB < 1 {
		return nil, fmt.Errorf("memcached: MemoryMB(%d): give a size of 1 MB or more", b.memoryMB)
	}
	cb := b.s.Container(Image).Cmd("-m", strconv.Itoa(b.memoryMB)).Port(Port).
		WaitFor(modkit.Probe{Port: Port, Name: "version", Try: version})
	b.ApplyTo(cb)
	c, at, err := modkit.Start(ctx, "memcached", cb, Port)
	if err != nil {
		return nil, err
	}
	return &Container{Container: c, Addr: at.Addr()}, nil
}

// Start is StartE that fails the test (or panics in a session) on error.
func (b *Builder) Start() *Container {
	if tb := b.s.T(); tb != nil {
		tb.Helper()
	}
	return modkit.Must(b.s, b.StartE)
}

// Container is a started server; Addr is where the test reaches it.
type Container struct {
	*berth.Container
	Addr string
}

// version is one round trip of memcached's text protocol, its I/O bounded
// by ctx and 2 s, its reply by 256 bytes.
func version(ctx context.Context, addr string) error {
	conn, err := modkit.Dial(ctx, addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "version\r\n"); err != nil {
		return err
	}
	line, err := modkit.ReadLine(bufio.NewReader(conn), 256)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "VERSION ") {
		return fmt.Errorf("version answered %q", line)
	}
	return nil
}
