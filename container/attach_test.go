package container_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/syncbuf"
)

func TestAttachStdinKeepsStreamsApart(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := run(t, h, container.Spec{
		Cmd:       []string{"sh", "-c", "while read line; do echo out:$line; echo err:$line >&2; done; echo bye"},
		OpenStdin: true, StdinOnce: true,
	}, "")

	a, err := c.Attach(ctx, container.AttachOptions{Stdin: strings.NewReader("a\nb\n")})
	require.NoError(t, err)
	defer a.Close()
	assert.False(t, a.TTY())
	// EOF of Stdin reaches the process: the loop ends and it exits.
	require.NoError(t, a.Wait(ctx))
	out := a.Output()
	assert.Equal(t, "out:a\nout:b\nbye\n", string(out.Stdout))
	assert.Equal(t, "err:a\nerr:b\n", string(out.Stderr))
	st, err := c.WaitExit(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, st.ExitCode)
	require.NoError(t, a.Close(), "closing an ended attachment is fine")
}

func TestAttachTTYConsole(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := run(t, h, container.Spec{Cmd: []string{"sh"}, Tty: true, OpenStdin: true}, "")

	pr, pw := io.Pipe()
	defer pw.Close()
	a, err := c.Attach(ctx, container.AttachOptions{Stdin: pr})
	require.NoError(t, err)
	defer a.Close()
	assert.True(t, a.TTY())

	require.NoError(t, c.ResizeTTY(ctx, 33, 101))
	_, err = io.WriteString(pw, "stty size; echo MARK-$((6*7)) >&2\n")
	require.NoError(t, err)
	// The shell's echo of the typed line shows $((6*7)); only running it
	// prints 42. stderr goes to the console too: one stream.
	require.Eventually(t, func() bool {
		out := string(a.Output().Stdout)
		return strings.Contains(out, "33 101") && strings.Contains(out, "MARK-42")
	}, 10*time.Second, 20*time.Millisecond, "console so far: %q", a.Output().Stdout)
	assert.Empty(t, a.Output().Stderr)

	_, err = io.WriteString(pw, "exit 3\n")
	require.NoError(t, err)
	require.NoError(t, a.Wait(ctx))
	st, err := c.WaitExit(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, st.ExitCode)
}

func TestAttachWritersLogsAndDetach(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := h.Container(busybox).
		Cmd("sh", "-c", "echo before-attach; echo to-stderr >&2; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done").
		Start()
	require.Eventually(t, func() bool {
		out, err := c.LogsSnapshot(ctx)
		return err == nil && strings.Contains(string(out.Stdout), "tick 1")
	}, 10*time.Second, 20*time.Millisecond)

	var stdout, stderr syncbuf.Buffer
	a, err := c.Attach(ctx, container.AttachOptions{Stdout: &stdout, Stderr: &stderr, Logs: true})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(stdout.String(), "tick 5") }, 10*time.Second, 20*time.Millisecond)
	assert.True(t, strings.HasPrefix(stdout.String(), "before-attach\n"), "Logs replays earlier output: %q", stdout.String())
	assert.Equal(t, "to-stderr\n", stderr.String())
	assert.Empty(t, a.Output().Stdout, "output went to the writers")

	// Close detaches; the container keeps running.
	require.NoError(t, a.Close())
	select {
	case <-a.Done():
	default:
		t.Fatal("Done is not closed after Close")
	}
	require.NoError(t, a.Wait(ctx))
	seen := stdout.String()
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, seen, stdout.String(), "nothing arrives after Close")
	st, err := c.State(ctx)
	require.NoError(t, err)
	assert.True(t, st.Running)
}

func TestAttachEndsWithCtx(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	c := h.Container(busybox).Cmd("sleep", "3600").Start()
	ctx, cancel := context.WithCancel(t.Context())
	a, err := c.Attach(ctx, container.AttachOptions{})
	require.NoError(t, err)
	cancel()
	select {
	case <-a.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the attachment outlived its ctx")
	}
	require.NoError(t, a.Wait(t.Context()))
	st, err := c.State(t.Context())
	require.NoError(t, err)
	assert.True(t, st.Running)
}

func TestAttachBadInput(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()

	t.Run("stdin without OpenStdin", func(t *testing.T) {
		c := h.Container(busybox).Cmd("sleep", "3600").Start()
		_, err := c.Attach(ctx, container.AttachOptions{Stdin: strings.NewReader("x")})
		require.ErrorIs(t, err, container.ErrInvalidSpec)
		assert.Contains(t, err.Error(), "Spec.OpenStdin")
	})
	t.Run("stopped container", func(t *testing.T) {
		c := exited(t, h, "", "true")
		_, err := c.Attach(ctx, container.AttachOptions{})
		require.ErrorIs(t, err, container.ErrNotRunning)
		assert.Contains(t, err.Error(), "attach to "+c.String())
		assert.Contains(t, err.Error(), "set Logs")
	})
}

func TestAttachStoppedWithLogs(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := exited(t, h, "", "sh", "-c", "echo said; echo complained >&2")
	a, err := c.Attach(ctx, container.AttachOptions{Logs: true})
	require.NoError(t, err)
	require.NoError(t, a.Wait(ctx))
	assert.Equal(t, container.Output{Stdout: []byte("said\n"), Stderr: []byte("complained\n")}, a.Output())
}

func TestAttachBeforeStart(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	labels := map[string]string{engine.LabelSession: h.Session().ID(), engine.LabelTest: t.Name()}
	c, err := container.Create(ctx, h.Engine(), container.Spec{Image: busybox, Cmd: []string{"echo", "first words"}},
		container.RunOptions{Labels: labels, Created: func(_ engine.Kind, id string) {
			t.Cleanup(func() { removeContainer(t, h.Engine(), id) })
		}})
	require.NoError(t, err)

	a, err := c.Attach(ctx, container.AttachOptions{})
	require.NoError(t, err)
	require.NoError(t, c.StartAndWait(ctx, nil))
	require.NoError(t, a.Wait(ctx))
	assert.Equal(t, "first words\n", string(a.Output().Stdout), "output from the first byte, without Logs")
}

func TestAttachStdinEndKeepsOutputFlowing(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	// Without StdinOnce the engine would end the output streams at the
	// client's stdin EOF; Attach keeps them.
	c := run(t, h, container.Spec{
		Cmd:       []string{"sh", "-c", "read a; echo got:$a; sleep 0.5; echo later"},
		OpenStdin: true,
	}, "")
	a, err := c.Attach(ctx, container.AttachOptions{Stdin: strings.NewReader("x\n")})
	require.NoError(t, err)
	defer a.Close()
	require.NoError(t, a.Wait(ctx))
	assert.Equal(t, "got:x\nlater\n", string(a.Output().Stdout))
}
