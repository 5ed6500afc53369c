package container_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/netstub"
)

// cutEngine is a fake engine whose container "x" writes 20 lines on a
// followed log or an attach and then loses the connection, the way a
// network cut or a proxy's idle timeout ends it.
type cutEngine struct {
	state atomic.Value // the container's state as inspect reports it: "running" or "exited"
	// exits makes the container exit as its stream ends: a clean end.
	exits bool
	// how the stream ends: "close" (an orderly end of the body), "drop"
	// (the connection closes with no end of body), "torn" (it closes in
	// the middle of a frame).
	end string
}

func (e *cutEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_ping":
		w.Header().Set("API-Version", "1.41")
	case strings.HasSuffix(r.URL.Path, "/containers/x/json"):
		st := e.state.Load().(string)
		fmt.Fprintf(w, `{"Id":"x","Name":"/x","Config":{"Image":"busybox:1.36"},"State":{"Status":%q,"Running":%v}}`, st, st == "running")
	case strings.HasSuffix(r.URL.Path, "/containers/x/logs"):
		w.Header().Set("Content-Type", "application/vnd.docker.multiplexed-stream")
		w.WriteHeader(200)
		for i := range 20 {
			w.Write(netstub.Frame(1, fmt.Sprintf("line %d\n", i)))
		}
		w.(http.Flusher).Flush()
		e.exit()
		e.finish(w)
	case strings.HasSuffix(r.URL.Path, "/containers/x/attach"):
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
		for i := range 20 {
			brw.Write(netstub.Frame(1, fmt.Sprintf("line %d\n", i)))
		}
		if e.end == "torn" {
			brw.Write(netstub.Frame(1, "a frame cut short")[:12])
		}
		brw.Flush()
		e.exit()
	default:
		http.NotFound(w, r)
	}
}

func (e *cutEngine) exit() {
	if e.exits {
		e.state.Store("exited")
	}
}

func (e *cutEngine) finish(w http.ResponseWriter) {
	switch e.end {
	case "close":
		return
	case "torn":
		w.Write(netstub.Frame(1, "a frame cut short")[:12])
		w.(http.Flusher).Flush()
	}
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func startCutEngine(t *testing.T, end string, exits bool) (*engine.Client, *cutEngine) {
	t.Helper()
	e := &cutEngine{end: end, exits: exits}
	e.state.Store("running")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: e}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	c, err := engine.New(engine.WithHost("tcp://" + ln.Addr().String()))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, e
}

// A followed log or an attachment cut while the container runs is an
// error; the same end after the container exited is a clean end.
func TestStreamCutIsAnError(t *testing.T) {
	for _, end := range []string{"close", "drop", "torn"} {
		for _, state := range []string{"running", "exited"} {
			t.Run(end+"/"+state, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				client, engine := startCutEngine(t, end, state == "exited")
				ctr, err := container.Attach(ctx, client, "x")
				require.NoError(t, err)

				var lines []string
				err = ctr.FollowLogs(ctx, func(l container.LogLine) { lines = append(lines, l.Text) })
				require.GreaterOrEqual(t, len(lines), 20)
				assert.Equal(t, "line 19", lines[19])
				if state == "running" {
					require.Error(t, err, "a cut follow must not look like the container's end")
					assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
					assert.Contains(t, err.Error(), "still runs")
				} else {
					assert.NoError(t, err)
				}

				if end == "drop" {
					return // the hijacked attach has no body framing to drop
				}
				engine.state.Store("running")
				a, err := ctr.Attach(ctx, container.AttachOptions{})
				require.NoError(t, err)
				err = a.Wait(ctx)
				assert.True(t, strings.HasPrefix(string(a.Output().Stdout), "line 0\n"))
				assert.Contains(t, string(a.Output().Stdout), "line 19\n")
				if state == "running" {
					require.Error(t, err)
					assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
				} else {
					assert.NoError(t, err)
				}
			})
		}
	}
}

// The clean end on the real engine: a container that writes and exits.
func TestFollowAndAttachEndCleanlyWhenTheContainerExits(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := run(t, h, container.Spec{Cmd: []string{"sh", "-c", "sleep 1; for i in 1 2 3; do echo line $i; done"}}, "")
	a, err := c.Attach(ctx, container.AttachOptions{})
	require.NoError(t, err)
	var lines []string
	require.NoError(t, c.FollowLogs(ctx, func(l container.LogLine) { lines = append(lines, l.Text) }))
	assert.Equal(t, []string{"line 1", "line 2", "line 3"}, lines)
	require.NoError(t, a.Wait(ctx))
	assert.Equal(t, "line 1\nline 2\nline 3\n", string(a.Output().Stdout))
}

// Tail, which failure diagnostics print, cuts a long line and bounds the
// whole, on the real engine: 100 MB were printed whole before.
func TestTailIsBounded(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	// 20 lines of 8 KiB on stdout, an 8 MiB line on stderr, 60 short
	// lines and a last long line without a newline.
	script := `for i in $(seq 1 20); do head -c 8192 /dev/zero | tr '\0' a; echo; done; ` +
		`head -c 8388608 /dev/zero | tr '\0' b >&2; echo >&2; sleep 1; ` +
		`for i in $(seq 1 60); do echo short $i; done; head -c 100000 /dev/zero | tr '\0' c`
	c := run(t, h, container.Spec{Cmd: []string{"sh", "-c", script}}, "")
	_, err := c.WaitExit(ctx)
	require.NoError(t, err)

	check := func(lines []container.LogLine) (aLines int, sawB bool) {
		t.Helper()
		require.NotEmpty(t, lines)
		total := 0
		for _, l := range lines {
			total += len(l.Text)
			assert.LessOrEqual(t, len(l.Text), 4<<10+64, "a line is cut to a few KiB")
			if strings.HasPrefix(l.Text, "aaaa") && l.Stream == "stdout" {
				aLines++
			}
			sawB = sawB || strings.HasPrefix(l.Text, "bbbb") && l.Stream == "stderr"
		}
		assert.LessOrEqual(t, total, 32<<10, "the tail as a whole is bounded")
		var stdout []string
		for _, l := range lines {
			if l.Stream == "stdout" {
				stdout = append(stdout, l.Text)
			}
		}
		require.GreaterOrEqual(t, len(stdout), 2)
		last := stdout[len(stdout)-1]
		assert.True(t, strings.HasPrefix(last, "cccc"), last[:min(16, len(last))])
		assert.Contains(t, last, "… [")
		assert.Contains(t, last, "more bytes cut]")
		assert.Equal(t, "short 60", stdout[len(stdout)-2])
		return aLines, sawB
	}
	lines, err := c.Tail(ctx, 50)
	require.NoError(t, err)
	// The engine counts a long line as one entry per 16 KiB piece.
	assert.Greater(t, len(lines), 40)
	check(lines)

	// Asked for everything, the newest lines that fit are kept.
	lines, err = c.Tail(ctx, 1000)
	require.NoError(t, err)
	aLines, sawB := check(lines)
	assert.True(t, sawB, "the 8 MiB line is kept, cut")
	assert.True(t, aLines > 0 && aLines < 20, "%d of the 20 long lines fit", aLines)
}

// Tail's bounds hold on what a fake engine sends without end.
func TestTailBoundedAgainstEndlessLine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/_ping":
			w.Header().Set("API-Version", "1.41")
		case strings.HasSuffix(r.URL.Path, "/json"):
			w.Write([]byte(`{"Id":"x","Config":{"Tty":true},"State":{"Status":"exited"}}`))
		default:
			bw := bufio.NewWriter(w)
			chunk := strings.Repeat("z", 64<<10)
			for range 1600 { // 100 MiB in one line
				bw.WriteString(chunk)
			}
			bw.Flush()
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	client, err := engine.New(engine.WithHost("tcp://" + ln.Addr().String()))
	require.NoError(t, err)
	defer client.Close()
	ctr, err := container.Attach(context.Background(), client, "x")
	require.NoError(t, err)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	lines, err := ctr.Tail(context.Background(), 50)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	// Everything allocated meanwhile, the fake engine's writes included:
	// an upper bound on how far the heap grew.
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20))
	require.Len(t, lines, 1)
	assert.Equal(t, fmt.Sprintf("%s… [%d more bytes cut]", strings.Repeat("z", 4<<10), 100<<20-4<<10), lines[0].Text)
}
