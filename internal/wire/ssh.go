package wire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sshDialer returns a dialer that runs `ssh ... docker system dial-stdio`
// for every connection, like the docker CLI, so the user's ssh config, keys
// and agent apply. The process ends when the connection is closed.
func sshDialer(u *url.URL) func(ctx context.Context) (net.Conn, error) {
	args := []string{"-o", "ConnectTimeout=30", "-T"}
	var login []string
	if u.User != nil && u.User.Username() != "" {
		login = append(login, "-l", u.User.Username())
	}
	if p := u.Port(); p != "" {
		login = append(login, "-p", p)
	}
	args = append(args, login...)
	args = append(args, "--", u.Hostname(), "docker", "system", "dial-stdio")
	try := strings.Join(append(append([]string{"ssh"}, login...), u.Hostname(), "docker", "system", "dial-stdio"), " ")
	host := "ssh://" + u.Host
	if u.User != nil && u.User.Username() != "" {
		host = "ssh://" + u.User.Username() + "@" + u.Host
	}
	return func(ctx context.Context) (net.Conn, error) {
		// The process must outlive the dial ctx: it carries the connection.
		return startCmdConn(host, try, "ssh", args...)
	}
}

// SSHError says the ssh command carrying an ssh:// engine connection
// failed: the login was refused, the host could not be reached, or the
// remote docker CLI could not reach its engine. It matches
// ErrDaemonUnreachable.
type SSHError struct {
	Host   string // ssh://user@host:port, without any password
	Stderr string // what ssh and the remote command printed, capped
	Err    error  // the process's exit status
	try    string // the command that reproduces the failure
}

func (e *SSHError) Error() string {
	msg := e.Err.Error()
	if e.Stderr != "" {
		msg = e.Stderr + " (" + msg + ")"
	}
	try := e.try
	if try == "" {
		try = "ssh HOST docker system dial-stdio"
	}
	return fmt.Sprintf("ssh to the engine at %s failed: %s; check that `%s` runs from a shell here (ssh key, ~/.ssh/config, known_hosts) and that the remote user has docker 18.09 or newer on its PATH with a running engine", e.Host, msg, try)
}

// Unwrap returns the process's exit status.
func (e *SSHError) Unwrap() error { return e.Err }

// Is makes an SSHError match ErrDaemonUnreachable.
func (e *SSHError) Is(target error) bool { return target == ErrDaemonUnreachable }

// cmdConn is a net.Conn over a child process's stdin and stdout. The pipes
// are the conn's own (not exec's), so the process is reaped as soon as it
// exits without cutting off output still to be read, and so deadlines
// work.
type cmdConn struct {
	cmd     *exec.Cmd
	stdin   *os.File
	stdout  *os.File
	stderr  *capBuffer
	host    string
	try     string
	exited  chan struct{} // closed once the process is reaped
	waitErr error         // set before exited is closed
	closed  atomic.Bool
	once    sync.Once
}

func startCmdConn(host, try, name string, args ...string) (*cmdConn, error) {
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		stdinR.Close()
		stdinW.Close()
		return nil, err
	}
	c := &cmdConn{stdin: stdinW, stdout: stdoutR, stderr: &capBuffer{max: 4096}, host: host, try: try, exited: make(chan struct{})}
	c.cmd = exec.Command(name, args...)
	c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = stdinR, stdoutW, c.stderr
	// A background process ssh starts (a ControlPersist master) may keep
	// stderr open; do not let that hold up reaping.
	c.cmd.WaitDelay = time.Second
	err = c.cmd.Start()
	// The child has its own copies of these ends.
	stdinR.Close()
	stdoutW.Close()
	if err != nil {
		stdinW.Close()
		stdoutR.Close()
		return nil, fmt.Errorf("run %s (is the OpenSSH client installed?): %w", name, err)
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

func (c *cmdConn) Read(p []byte) (int, error) {
	n, err := c.stdout.Read(p)
	if err == io.EOF && n == 0 {
		if f := c.failure(); f != nil {
			return 0, f
		}
	}
	return n, err
}

func (c *cmdConn) Write(p []byte) (int, error) {
	n, err := c.stdin.Write(p)
	if err != nil {
		if f := c.failure(); f != nil {
			return n, f
		}
	}
	return n, err
}

// failure describes a failed run once the process's output has ended: its
// exit status and what it printed. It waits a little for the exit, since
// the output ends first; a clean exit is no failure.
func (c *cmdConn) failure() error {
	select {
	case <-c.exited:
	case <-time.After(2 * time.Second):
		return nil
	}
	if c.waitErr == nil || c.closed.Load() {
		return nil
	}
	return &SSHError{Host: c.host, Stderr: c.stderr.String(), Err: c.waitErr, try: c.try}
}

// CloseWrite closes the process's stdin, the half-close of a hijacked stream.
func (c *cmdConn) CloseWrite() error { return c.stdin.Close() }

// Close ends the process and waits until it is reaped.
func (c *cmdConn) Close() error {
	c.once.Do(func() {
		c.closed.Store(true)
		c.stdin.Close()
		c.stdout.Close()
		select {
		case <-c.exited:
		default:
			c.cmd.Process.Kill()
			<-c.exited
		}
	})
	return nil
}

func (c *cmdConn) LocalAddr() net.Addr  { return sshAddr("local") }
func (c *cmdConn) RemoteAddr() net.Addr { return sshAddr(c.host) }

func (c *cmdConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

func (c *cmdConn) SetReadDeadline(t time.Time) error { return c.stdout.SetReadDeadline(t) }

// SetWriteDeadline sets the stdin deadline; after CloseWrite there is
// nothing left to bound.
func (c *cmdConn) SetWriteDeadline(t time.Time) error {
	if err := c.stdin.SetWriteDeadline(t); err != nil && !errors.Is(err, os.ErrClosed) {
		return err
	}
	return nil
}

type sshAddr string

func (a sshAddr) Network() string { return "ssh" }
func (a sshAddr) String() string  { return string(a) }

// capBuffer keeps the first max bytes written to it.
type capBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *capBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		if len(p) > room {
			b.buf.Write(p[:room])
		} else {
			b.buf.Write(p)
		}
	}
	return len(p), nil
}

func (b *capBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(bytes.TrimSpace(b.buf.Bytes()))
}
