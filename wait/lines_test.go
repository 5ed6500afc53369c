package wait

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type window struct {
	text  string
	start bool
}

func scanAll(t *testing.T, in string) ([]window, error) {
	t.Helper()
	var got []window
	err := scanLines(strings.NewReader(in), func(line []byte, start bool) bool {
		got = append(got, window{string(line), start})
		return false
	})
	return got, err
}

func TestScanLines(t *testing.T) {
	long := strings.Repeat("a", maxLine) + strings.Repeat("b", maxLine/2) + "c"
	tests := []struct {
		name string
		in   string
		want []window
	}{
		{"empty", "", nil},
		{"lines", "one\ntwo\n", []window{{"one", true}, {"two", true}}},
		{"crlf", "one\r\ntwo\r\n", []window{{"one", true}, {"two", true}}},
		{"empty line", "\n\nx\n", []window{{"", true}, {"", true}, {"x", true}}},
		{"last line without newline", "one\ntwo", []window{{"one", true}, {"two", true}}},
		{"a lone carriage return stays", "a\rb\n", []window{{"a\rb", true}}},
		{"a line longer than the buffer but short of maxLine", strings.Repeat("x", 200<<10) + "\nnext\n",
			[]window{{strings.Repeat("x", 200<<10), true}, {"next", true}}},
		{"a line of exactly maxLine", strings.Repeat("x", maxLine) + "\n",
			// The window is delivered when maxLine bytes are held; the
			// rest of the line (its last half again, and no more) ends it.
			[]window{{strings.Repeat("x", maxLine), true}, {strings.Repeat("x", maxLine/2), false}}},
		{"a long line comes in overlapping windows", long + "\nnext\n", []window{
			{strings.Repeat("a", maxLine), true},
			{strings.Repeat("a", maxLine/2) + strings.Repeat("b", maxLine/2), false},
			{strings.Repeat("b", maxLine/2) + "c", false},
			{"next", true},
		}},
		{"a long line at the end without newline", long, []window{
			{strings.Repeat("a", maxLine), true},
			{strings.Repeat("a", maxLine/2) + strings.Repeat("b", maxLine/2), false},
			{strings.Repeat("b", maxLine/2) + "c", false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scanAll(t, tt.in)
			assert.ErrorIs(t, err, io.EOF)
			require.Equal(t, len(tt.want), len(got), "windows")
			for i := range got {
				// Not assert.Equal on the whole: a diff of MiB strings.
				assert.True(t, got[i].text == tt.want[i].text, "window %d: %d bytes %.20q…, want %d bytes %.20q…", i, len(got[i].text), got[i].text, len(tt.want[i].text), tt.want[i].text)
				assert.Equal(t, tt.want[i].start, got[i].start, "window %d start", i)
			}
		})
	}
}

func TestScanLinesStopsAndReportsReadErrors(t *testing.T) {
	var got []string
	err := scanLines(strings.NewReader("a\nb\nc\n"), func(line []byte, _ bool) bool {
		got = append(got, string(line))
		return string(line) == "b"
	})
	assert.NoError(t, err, "stopped by fn")
	assert.Equal(t, []string{"a", "b"}, got)

	broken := errors.New("cut")
	got = nil
	err = scanLines(io.MultiReader(strings.NewReader("a\npart"), errReader{broken}), func(line []byte, _ bool) bool {
		got = append(got, string(line))
		return false
	})
	assert.ErrorIs(t, err, broken)
	assert.Equal(t, []string{"a", "part"}, got, "what came before the error is seen")

	err = scanLines(io.MultiReader(strings.NewReader("a\npart"), errReader{broken}), func(line []byte, _ bool) bool {
		return string(line) == "part"
	})
	assert.NoError(t, err, "stopped by fn on the last piece")
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestLineCounterCountsALineOnce(t *testing.T) {
	c := lineCounter{match: func(b []byte) bool { return bytes.Contains(b, []byte("x")) }}
	assert.True(t, c.add([]byte("x1"), true))
	assert.False(t, c.add([]byte("x2"), false), "the same line again")
	assert.False(t, c.add([]byte("none"), true))
	assert.True(t, c.add([]byte("x3"), false), "a later window of a line that did not match at first")
	assert.False(t, c.add([]byte("x4"), false), "the same line again")
	assert.Equal(t, 2, c.n)
	assert.True(t, c.add([]byte("x5"), true))
	assert.Equal(t, 3, c.n)
}

// endless is one log line without a newline: size bytes of 'x', text,
// then after bytes of 'x', and then (when hold) a stream that stays open
// like a followed log of a running container, until Close.
type endless struct {
	left, after int
	text        *strings.Reader
	hold        bool
	closed      chan struct{}
	fill        []byte
	read        atomic.Int64
}

func newEndless(size int, text string, after int, hold bool) *endless {
	return &endless{left: size, text: strings.NewReader(text), after: after, hold: hold, closed: make(chan struct{}), fill: bytes.Repeat([]byte("x"), 64<<10)}
}

func (e *endless) Read(p []byte) (int, error) {
	if e.left > 0 {
		n := copy(p[:min(len(p), e.left)], e.fill)
		e.left -= n
		e.read.Add(int64(n))
		return n, nil
	}
	if e.text.Len() > 0 {
		return e.text.Read(p)
	}
	if e.after > 0 {
		e.left, e.after = e.after, 0
		return e.Read(p)
	}
	if e.hold {
		<-e.closed
		return 0, io.ErrClosedPipe
	}
	return 0, io.EOF
}

func (e *endless) Close() error {
	select {
	case <-e.closed:
	default:
		close(e.closed)
	}
	return nil
}

// streamTarget is a running fake whose followed log is log.
type streamTarget struct {
	*fake
	log io.ReadCloser
}

func (s streamTarget) Logs(ctx context.Context, follow bool) (io.ReadCloser, error) {
	if !follow {
		return io.NopCloser(strings.NewReader("")), nil
	}
	context.AfterFunc(ctx, func() { s.log.Close() })
	return s.log, nil
}

// peakHeap samples the heap in use until stop is called and returns the
// highest value seen above the value at the start.
func peakHeap(t *testing.T) (stop func() uint64) {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > base && ms.HeapInuse-base > peak.Load() {
				peak.Store(ms.HeapInuse - base)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak.Load()
	}
}

// heapBound is the most a log wait may add to the heap, whatever the
// line: a few windows of maxLine and the reader's buffer, with room for
// the garbage of earlier windows.
const heapBound = 16 << 20

// A 200 MB line without a newline, from a container that keeps running:
// the wait finds the text near its end and holds a bounded part of it.
// (A line is matched when its newline comes or in windows of maxLine, so
// the text is followed by a window's worth of the line.)
func TestForLogOnAnEndlessLineKeepsMemoryBounded(t *testing.T) {
	const size = 200 << 20
	for _, tt := range []struct {
		name string
		s    *LogStrategy
	}{
		{"substring", ForLog("ready")},
		{"regexp", ForLogRegexp(regexp.MustCompile(`rea+dy`))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			log := newEndless(size, "ready", maxLine, true)
			target := streamTarget{fake: newFake(), log: log}
			stop := peakHeap(t)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			err := tt.s.Ready(ctx, target)
			peak := stop()
			require.NoError(t, err)
			assert.GreaterOrEqual(t, log.read.Load(), int64(size), "the whole line was read")
			assert.Less(t, peak, uint64(heapBound), "peak heap above the start: %d MiB", peak>>20)
			t.Logf("peak heap above the start: %.1f MiB for a %d MiB line", float64(peak)/(1<<20), size>>20)
		})
	}
}

// The text straddles the point where one window ends: the overlap keeps
// enough of the line to find it, once.
func TestForLogFindsTextAcrossAWindowEdge(t *testing.T) {
	for _, at := range []int{maxLine - 3, maxLine + 10, maxLine + maxLine/2 - 2, 3*maxLine - 1} {
		line := strings.Repeat("x", at) + "ready" + strings.Repeat("y", 3*maxLine)
		f := newFake()
		f.write(line)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := ForLog("ready").Ready(ctx, f)
		cancel()
		assert.NoError(t, err, "text at byte %d", at)
		// The same line matches in two windows: it still counts once.
		lines := lineCounter{match: func(b []byte) bool { return bytes.Contains(b, []byte("ready")) }}
		require.ErrorIs(t, scanLines(strings.NewReader(line+"\nnext\n"), func(w []byte, start bool) bool {
			lines.add(w, start)
			return false
		}), io.EOF)
		assert.Equal(t, 1, lines.n, "text at byte %d counted once", at)
	}
}

func TestFollowLogOnAnEndlessLine(t *testing.T) {
	const size = 64 << 20
	// "ready" twice in one line, a window apart: one signal for the line.
	log := newEndless(size, "ready"+strings.Repeat("z", maxLine)+"ready", maxLine, true)
	target := streamTarget{fake: newFake(), log: log}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stop := peakHeap(t)
	lines, err := FollowLog(ctx, target, "ready")
	require.NoError(t, err)
	require.NoError(t, lines.Next(ctx))
	peak := stop()
	assert.Less(t, peak, uint64(heapBound), "peak heap above the start: %d MiB", peak>>20)
	select {
	case <-lines.Found:
		t.Fatal("one line signalled twice")
	case <-time.After(100 * time.Millisecond):
	}
}

func TestLogTailCutsLongLines(t *testing.T) {
	f := newFake()
	f.write("first\n" + strings.Repeat("x", 3*maxLine) + "\nlast")
	tail := logTail(context.Background(), f)
	require.Len(t, tail, 3)
	assert.Equal(t, "first", tail[0])
	assert.Equal(t, strings.Repeat("x", tailLineMax)+" [line cut: 1048576 bytes or more]", tail[1])
	assert.Equal(t, "last", tail[2])

	f2 := newFake()
	for i := range tailLines + 5 {
		f2.write(strings.Repeat("y", i) + "\n")
	}
	tail = logTail(context.Background(), f2)
	require.Len(t, tail, tailLines, "only the last lines")
	assert.Equal(t, strings.Repeat("y", 5), tail[0])
	assert.Equal(t, strings.Repeat("y", tailLines+4), tail[tailLines-1])
}

func TestLogTailKeepsALineOfExactlyTheLimit(t *testing.T) {
	f := newFake()
	f.write(strings.Repeat("z", tailLineMax) + "\n")
	assert.Equal(t, []string{strings.Repeat("z", tailLineMax)}, logTail(context.Background(), f))
}
