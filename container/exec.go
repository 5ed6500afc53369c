package container

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/berth-go/berth/internal/wire"
	"github.com/berth-go/berth/wait"
)

// ExecResult is the outcome of Exec.
type ExecResult = wait.ExecResult

// ExecOptions refine ExecWith.
type ExecOptions struct {
	Stdin   io.Reader // sent, then closed, so the command sees EOF
	Env     map[string]string
	User    string
	WorkDir string
	Tty     bool
	// Stdout and Stderr, when set, receive output as it arrives instead of
	// the result's buffers.
	Stdout, Stderr io.Writer
}

// Exec runs cmd inside the container and returns its exit code and output.
// A command that ran and failed is a result with its exit code, not an
// error. A command the runtime could not start (not in the image's PATH,
// no such file, not executable) comes back as the runtime reports it
// (exit code 126 or 127 and its message in the output) together with a
// *CommandError matching ErrCommandNotFound (unless the file is only not
// executable). When ctx ends, Exec returns at once, but the Engine API has
// no call to stop an exec'd process: it runs on in the container until it
// exits or the container stops (bound it inside, e.g. `timeout 5 cmd`).
func (c *Container) Exec(ctx context.Context, cmd []string) (ExecResult, error) {
	return c.ExecWith(ctx, cmd, ExecOptions{})
}

// ExecWith runs cmd with options.
func (c *Container) ExecWith(ctx context.Context, cmd []string, o ExecOptions) (ExecResult, error) {
	if len(cmd) == 0 {
		return ExecResult{}, &SpecError{Field: "Exec", Value: "", Hint: "give a command, e.g. []string{\"cat\", \"/etc/hostname\"}"}
	}
	id, err := c.client.ExecCreate(ctx, c.id, wire.ExecConfig{
		Cmd: cmd, Env: sortedEnv(o.Env), User: o.User, WorkingDir: o.WorkDir, Tty: o.Tty,
		AttachStdin: o.Stdin != nil, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec %q in %s: %w", cmd, c, err)
	}
	conn, err := c.client.ExecStart(ctx, id, o.Tty)
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec %q in %s: %w", cmd, c, err)
	}
	defer conn.Close()
	if o.Stdin != nil {
		go func() {
			io.Copy(conn, o.Stdin)
			conn.CloseWrite()
		}()
	} else {
		conn.CloseWrite()
	}
	var stdout, stderr bytes.Buffer
	outW, errW := io.Writer(&stdout), io.Writer(&stderr)
	if o.Stdout != nil {
		outW = o.Stdout
	}
	if o.Stderr != nil {
		errW = o.Stderr
	}
	if o.Tty {
		_, err = io.Copy(outW, conn)
	} else {
		err = wire.Demux(conn, outW, errW)
	}
	if err != nil && ctx.Err() == nil {
		return ExecResult{}, fmt.Errorf("exec %q in %s: read output: %w", cmd, c, err)
	}
	// The stream ends a moment before the engine records the exit code.
	for delay := time.Millisecond; ; delay *= 2 {
		ins, err := c.client.ExecInspect(ctx, id)
		if err != nil {
			return ExecResult{}, fmt.Errorf("exec %q in %s: %w", cmd, c, err)
		}
		if !ins.Running {
			res := ExecResult{ExitCode: ins.ExitCode, Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
			return res, execCommandError(cmd, res)
		}
		select {
		case <-ctx.Done():
			return ExecResult{}, fmt.Errorf("exec %q in %s: %w", cmd, c, context.Cause(ctx))
		case <-time.After(min(delay, 100*time.Millisecond)):
		}
	}
}

// execCommandError recognises the runtime's report of a command it could
// not start, which reaches an exec's output as text with exit code 126
// (runc) or 127 (crun): nil for every other result.
func execCommandError(cmd []string, res ExecResult) error {
	if res.ExitCode != 126 && res.ExitCode != 127 {
		return nil
	}
	// dockerd: "OCI runtime exec failed: exec failed: ..."; Podman:
	// "Error: runc: exec failed: ..." or "Error: crun: ...", on stderr.
	for _, line := range strings.Split(string(res.Stdout)+"\n"+string(res.Stderr), "\n") {
		if !strings.Contains(line, "OCI runtime") && !strings.Contains(line, "exec failed") && !strings.Contains(line, "crun: ") {
			continue
		}
		if command, problem, ok := commandProblem(line); ok {
			return &CommandError{Exec: true, Command: command, Cmd: cmd, Problem: problem, Err: errors.New(strings.TrimSpace(line))}
		}
	}
	return nil
}
