package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"

	"github.com/berth-go/berth/internal/syncbuf"
	"github.com/berth-go/berth/internal/wire"
)

// AttachOptions select what Attach connects.
type AttachOptions struct {
	// Stdin, when set, is streamed to the container's main process. The
	// container must have been created with Spec.OpenStdin. When Stdin
	// ends, a container made with Spec.StdinOnce and no TTY sees EOF; any
	// other container keeps its stdin open and the attachment goes on.
	Stdin io.Reader
	// Stdout and Stderr receive the output as it arrives. When nil, the
	// output is kept and read with Attachment.Output. A TTY container has
	// one console stream: it goes to Stdout.
	Stdout, Stderr io.Writer
	// Logs replays what the container wrote before the attach.
	Logs bool
	// DetachKeys overrides the engine's key sequence that detaches (e.g.
	// "ctrl-p,ctrl-q" for TTY containers).
	DetachKeys string
}

// Attachment is a live connection to the main process of a container:
// its stdin and its output streams. It ends when the container's process
// exits, when Close is called, or when the Attach ctx ends.
type Attachment struct {
	conn *wire.HijackedConn
	tty  bool
	done chan struct{}
	err  error // set before done is closed

	mu             sync.Mutex
	closed         bool
	stdout, stderr *syncbuf.Buffer
}

// Attach connects to the container's main process: output is kept apart
// by stream (stdout and stderr; a TTY container has one console stream)
// and, with opts.Stdin, input is streamed in. The connection lives until
// Close, the end of the process or the end of ctx. A container made with
// Create and not started yet can be attached to before StartAndWait, so no
// output is missed; a stopped one only with Logs.
func (c *Container) Attach(ctx context.Context, opts AttachOptions) (*Attachment, error) {
	info, err := c.client.ContainerInspect(ctx, c.id)
	if err != nil {
		return nil, fmt.Errorf("attach to %s: %w", c, err)
	}
	tty, openStdin, stdinOnce := false, false, false
	if info.Config != nil {
		tty, openStdin, stdinOnce = info.Config.Tty, info.Config.OpenStdin, info.Config.StdinOnce || c.stdinOnce
	}
	stopped := false
	if st := info.State; st != nil {
		stopped = st.Status == "exited" || st.Status == "dead" || st.Status == "removing"
	}
	if stopped && !opts.Logs {
		return nil, fmt.Errorf("attach to %s: %w (%s); start it first, or set Logs to read what it wrote", c, ErrNotRunning, info.State.Status)
	}
	if opts.Stdin != nil && !openStdin {
		return nil, &SpecError{Field: "Attach", Value: "Stdin", Hint: "the container was created without an open stdin: set Spec.OpenStdin (and Spec.StdinOnce to pass EOF on)"}
	}
	conn, err := c.client.ContainerAttach(ctx, c.id, wire.AttachOptions{
		// A stream from a stopped container would wait for its next start.
		Stream: !stopped, Logs: opts.Logs, Stdin: opts.Stdin != nil, Stdout: true, Stderr: true, DetachKeys: opts.DetachKeys,
	})
	if err != nil {
		return nil, fmt.Errorf("attach to %s: %w", c, err)
	}
	a := &Attachment{conn: conn, tty: tty, done: make(chan struct{})}
	outW, errW := opts.Stdout, opts.Stderr
	if outW == nil {
		a.stdout = &syncbuf.Buffer{}
		outW = a.stdout
	}
	if errW == nil {
		a.stderr = &syncbuf.Buffer{}
		errW = a.stderr
	}
	go func() {
		var err error
		if tty {
			_, err = io.Copy(outW, conn)
		} else {
			err = wire.Demux(conn, outW, errW)
		}
		a.mu.Lock()
		closed := a.closed
		a.mu.Unlock()
		switch {
		case closed || ctx.Err() != nil || errors.Is(err, net.ErrClosed):
			err = nil // detached on purpose
		case err == nil || errors.Is(err, io.ErrUnexpectedEOF):
			// The engine may cut the last frame when the process exits;
			// only that end is clean.
			err = c.streamEnd(ctx, "attach", err)
		default:
			err = fmt.Errorf("attach to %s: read output: %w", c, err)
		}
		a.err = err
		close(a.done)
	}()
	if opts.Stdin != nil {
		go func() {
			// The engine answers a half-close by closing the container's
			// stdin only for StdinOnce without TTY; otherwise it would end
			// the output streams, so the write side stays open.
			if _, err := io.Copy(conn, opts.Stdin); err == nil && stdinOnce && !tty {
				conn.CloseWrite()
			}
		}()
	}
	return a, nil
}

// TTY reports whether the attachment carries one console stream rather
// than separate stdout and stderr.
func (a *Attachment) TTY() bool { return a.tty }

// Output returns what the container wrote so far to the streams that had
// no writer in AttachOptions.
func (a *Attachment) Output() Output {
	var o Output
	if a.stdout != nil {
		o.Stdout = a.stdout.Bytes()
	}
	if a.stderr != nil {
		o.Stderr = a.stderr.Bytes()
	}
	return o
}

// Done is closed when the output has ended.
func (a *Attachment) Done() <-chan struct{} { return a.done }

// Wait blocks until the output ends (the process exited, the attachment was
// closed or its ctx ended) or ctx ends, and returns an error only if
// reading the output failed. Output that ends while the container still
// runs was cut (by the network, a proxy or the engine): an error matching
// io.ErrUnexpectedEOF.
func (a *Attachment) Wait(ctx context.Context) error {
	select {
	case <-a.done:
		return a.err
	case <-ctx.Done():
		return fmt.Errorf("wait for attachment: %w", context.Cause(ctx))
	}
}

// Close detaches: the connection is closed and the container keeps
// running. It returns once the output has been delivered, so writers given
// in AttachOptions are no longer used. A Stdin reader that blocks is left
// to its owner: close its writer side to release it.
func (a *Attachment) Close() error {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	err := a.conn.Close()
	<-a.done
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// WaitResult is the outcome of a wait started with WaitChan.
type WaitResult struct {
	ExitCode int
	Err      error
}

// WaitChan registers a wait for condition ("not-running" or "", "next-exit",
// "removed") and returns once the engine has it, so an exit caused right
// after the call is never missed. The channel receives one result and is
// closed.
func (c *Container) WaitChan(ctx context.Context, condition string) (<-chan WaitResult, error) {
	switch condition {
	case "", "not-running", "next-exit", "removed":
	default:
		return nil, &SpecError{Field: "Wait", Value: condition, Hint: "use \"not-running\", \"next-exit\" or \"removed\""}
	}
	if condition == "removed" && c.client.IsPodman(ctx) {
		return c.waitRemovedPodman(ctx)
	}
	answer, err := c.registerWait(ctx, condition)
	if err != nil {
		return nil, err
	}
	out := make(chan WaitResult, 1)
	go func() {
		defer close(out)
		out <- <-answer
	}()
	return out, nil
}

// registerWait sends the engine's wait call and returns once the engine has
// registered it; the channel then receives the engine's answer.
func (c *Container) registerWait(ctx context.Context, condition string) (<-chan WaitResult, error) {
	var q url.Values
	if condition != "" {
		q = url.Values{"condition": {condition}}
	}
	// The engine sends the answer's headers once the wait is registered,
	// and the body when the condition is met.
	resp, err := c.client.Do(ctx, wire.Request{Method: http.MethodPost, Path: "/containers/" + c.id + "/wait", Query: q, Long: true})
	if err != nil {
		return nil, fmt.Errorf("wait for %s (%s): %w", c, condition, err)
	}
	out := make(chan WaitResult, 1)
	go func() {
		defer resp.Body.Close()
		var w wire.WaitResponse
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&w); err != nil {
			if ctx.Err() != nil {
				err = context.Cause(ctx)
			}
			out <- WaitResult{Err: fmt.Errorf("wait for %s (%s): %w", c, condition, err)}
			return
		}
		res := WaitResult{ExitCode: int(w.StatusCode)}
		if res.ExitCode == -1 {
			res.ExitCode = 0 // Podman's code for a container that never ran; dockerd's is 0
		}
		if w.Error != nil && w.Error.Message != "" {
			res.Err = fmt.Errorf("wait for %s (%s): %s", c, condition, w.Error.Message)
		}
		out <- res
	}()
	return out, nil
}
