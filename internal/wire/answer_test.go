package wire

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/internal/tests/netstub"
)

// endless writes head, then body over and over (up to 4 GiB, the size a
// broken engine was seen sending), until the client goes away.
func endless(head, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(head))
		chunk := []byte(strings.Repeat(body, max(1, 32<<10/len(body))))
		for sent := 0; sent < 4<<30; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

// whole answers body in full.
func whole(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }
}

// memBound is the most the test process may allocate while reading one
// answer from a broken engine, whatever it sends.
const memBound = 64 << 20

// allocated runs fn and returns the bytes the process allocated meanwhile:
// an upper bound on how far the heap grew.
func allocated(fn func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestAnswersAreBounded(t *testing.T) {
	ctx := context.Background()
	inspect := func(c *Client) error { _, err := c.ContainerInspect(ctx, "x"); return err }
	list := func(c *Client) error { _, err := c.ContainerList(ctx, true, nil); return err }
	tests := []struct {
		name   string
		engine http.HandlerFunc
		call   func(*Client) error
	}{
		{"inspect with a 4 GiB string", endless(`{"Id":"`, "a"), inspect},
		{"inspect with endless escapes", endless(`{"Id":"`, `\"`), inspect},
		{"inspect with an endless array of objects", endless(`{"Mounts":[`, `{},`), inspect},
		{"inspect with an endless array of strings", endless(`{"Config":{"Env":[`, `"",`), inspect},
		{"list without end", endless(`[`, `{"Id":"0123456789abcdef","Names":["/x"],"Labels":{"berth.session":"s"}},`), list},
		{"list of empty objects without end", endless(`[`, `{},`), list},
		{"list with one endless element", endless(`[{"Id":"`, "a"), list},
		{"list with endless labels", endless(`[{"Labels":{`, `"a":"",`), list},
		// Whole and within the byte bound, yet ~80 times its size decoded.
		{"inspect with 1.3 million empty mounts", whole(`{"Mounts":[` + strings.Repeat(`{},`, (4<<20-20)/3) + `{}]}`), inspect},
		{"info", endless(`{"Name":"`, "a"), func(c *Client) error { _, err := c.Info(ctx); return err }},
		{"volume list", endless(`{"Volumes":[`, `{},`), func(c *Client) error { _, err := c.VolumeList(ctx, nil); return err }},
		{"answer without body to read", endless(``, "x"), func(c *Client) error { return c.ContainerStart(ctx, "x") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeEngine(t, "1.41", tt.engine)
			_, err := c.Version(ctx)
			require.NoError(t, err)
			var callErr error
			start := time.Now()
			alloc := allocated(func() { callErr = tt.call(c) })
			took := time.Since(start)
			if tt.name == "answer without body to read" {
				// The answer is not read at all beyond a sane size.
				assert.NoError(t, callErr)
			} else {
				require.Error(t, callErr)
				assert.ErrorIs(t, callErr, ErrAnswerTooLarge)
				var tl *AnswerTooLargeError
				require.ErrorAs(t, callErr, &tl)
				assert.Equal(t, "GET", tl.Method)
				assert.Contains(t, callErr.Error(), "bound")
				assert.Less(t, len(callErr.Error()), 512)
			}
			assert.Less(t, alloc, uint64(memBound), "allocated %d MiB", alloc>>20)
			// Memory is the bound that matters; time only shows that
			// reading stopped (4 GiB take minutes, even on an idle machine).
			assert.Less(t, took, 30*time.Second)
			t.Logf("%v after %v, %d KiB allocated", callErr, took.Round(time.Millisecond), alloc>>10)
		})
	}
}

func TestBoundedAnswersStillDecode(t *testing.T) {
	ctx := context.Background()
	var answer string
	c := fakeEngine(t, "1.41", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(answer)) })

	var b strings.Builder
	b.WriteString("[")
	for i := range 3000 { // a busy host: 3000 containers, ~1 MiB
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"Id":"%064d","Names":["/c%d"],"Image":"busybox:1.36","State":"running","Labels":{"berth.session":"s","berth.test":"TestX/with \"quotes\" and [brackets], {braces}"}}`, i, i)
	}
	b.WriteString("]")
	answer = b.String()
	cs, err := c.ContainerList(ctx, true, nil)
	require.NoError(t, err)
	require.Len(t, cs, 3000)
	assert.Equal(t, "/c2999", cs[2999].Names[0])
	assert.Equal(t, `TestX/with "quotes" and [brackets], {braces}`, cs[0].Labels["berth.test"])

	for _, empty := range []string{"[]", "null", " [ ] \n"} {
		answer = empty
		cs, err = c.ContainerList(ctx, true, nil)
		require.NoError(t, err, empty)
		assert.Empty(t, cs)
	}

	answer = `{"Id":"abc","State":{"Status":"running","Running":true}}`
	got, err := c.ContainerInspect(ctx, "abc")
	require.NoError(t, err)
	assert.True(t, got.State.Running)

	answer = `{"Id":`
	_, err = c.ContainerInspect(ctx, "abc")
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrAnswerTooLarge)
	assert.Contains(t, err.Error(), "decode answer")

	answer = `{"Id":"x"}`
	_, err = c.ContainerList(ctx, true, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "expected a JSON array")
}

func TestErrorMessagesAreCut(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	var body string
	c := fakeEngine(t, "1.41", func(w http.ResponseWriter, r *http.Request) { http.Error(w, body, 500) })
	for _, b := range []string{`{"message":"` + huge + `"}`, huge} {
		body = b
		err := c.ContainerStart(context.Background(), "abc")
		require.Error(t, err)
		assert.Less(t, len(err.Error()), 5<<10)
		assert.Contains(t, err.Error(), "more bytes cut")
		assert.True(t, strings.HasPrefix(err.Error(), "engine: POST /containers/abc/start: 500: "), err.Error()[:80])
	}

	// An error inside a JSON stream too.
	err := DecodeStream(strings.NewReader(`{"error":"`+huge+`"}`), nil)
	var se *StreamError
	require.ErrorAs(t, err, &se)
	assert.Less(t, len(err.Error()), 5<<10)

	// A short message is kept whole.
	body = `{"message":"No such container: abc"}`
	err = c.ContainerStart(context.Background(), "abc")
	assert.Equal(t, "engine: POST /containers/abc/start: 500: No such container: abc", err.Error())
}

func TestStreamMessageBounded(t *testing.T) {
	c := fakeEngine(t, "1.41", endless(`{"status":"`, "a"))
	var err error
	alloc := allocated(func() { err = c.ImagePull(context.Background(), "busybox", "1.36", "", "", nil) })
	require.ErrorIs(t, err, ErrAnswerTooLarge)
	assert.Contains(t, err.Error(), "POST /images/create: the stream message exceeds 4 MiB")
	assert.Less(t, alloc, uint64(memBound))
}

func TestEventBounded(t *testing.T) {
	c := fakeEngine(t, "1.41", endless(`{"Type":"container","Actor":{"Attributes":{"a":"`, "a"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	alloc := allocated(func() {
		events, errc := c.Events(ctx, nil)
		for range events {
		}
		err = <-errc
	})
	require.ErrorIs(t, err, ErrAnswerTooLarge)
	assert.NoError(t, ctx.Err())
	assert.Less(t, alloc, uint64(memBound))
}

func TestHijackAnswerHeaderBounded(t *testing.T) {
	addr := netstub.Serve(t, func(conn net.Conn) {
		br := bufio.NewReader(conn)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		conn.Write([]byte("HTTP/1.1 101 UPGRADED\r\nX-Endless: "))
		chunk := []byte(strings.Repeat("a", 32<<10))
		for {
			if _, err := conn.Write(chunk); err != nil {
				return
			}
		}
	})
	c, err := New(WithHost("tcp://"+addr), WithVersion("1.41"))
	require.NoError(t, err)
	defer c.Close()
	var herr error
	alloc := allocated(func() {
		_, herr = c.Hijack(context.Background(), Request{Method: "POST", Path: "/exec/x/start"}, "tcp")
	})
	require.ErrorIs(t, herr, ErrAnswerTooLarge)
	assert.Less(t, alloc, uint64(memBound))
	assert.False(t, errors.Is(herr, ErrDaemonUnreachable))
}

// Within the bounds, the guarded decoders read what encoding/json reads:
// the value counter follows strings and escapes without being fooled.
func FuzzDecodeAnswer(f *testing.F) {
	for _, s := range []string{
		`{"Id":"x","State":{"Running":true}}`,
		`[{"Id":"a","Names":["/a"]},{"Id":"b","Labels":{"k":"v,{[\"]}"}}]`,
		`{"Config":{"Env":["A=\\","B=\"[,{"]}}`,
		`null`, `[]`, `{"Id":"\u00e9\\\"}`, `[1,2`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want, got ContainerJSON
		wantErr := json.NewDecoder(bytes.NewReader(data)).Decode(&want)
		gotErr := decodeAnswer(bytes.NewReader(data), "GET", "/x", objectAnswer, &got)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("encoding/json: %v; decodeAnswer: %v", wantErr, gotErr)
		}
		if wantErr == nil && !reflect.DeepEqual(want, got) {
			t.Fatalf("decoded %+v, want %+v", got, want)
		}

		var wantList []ContainerSummary
		wantErr = json.NewDecoder(bytes.NewReader(data)).Decode(&wantList)
		gotList, gotErr := decodeList[ContainerSummary](bytes.NewReader(data), "GET", "/x")
		if wantErr == nil && gotErr != nil {
			t.Fatalf("encoding/json decoded %+v; decodeList: %v", wantList, gotErr)
		}
		if wantErr == nil && len(wantList) > 0 && !reflect.DeepEqual(wantList, gotList) {
			t.Fatalf("decoded %+v, want %+v", gotList, wantList)
		}
	})
}
