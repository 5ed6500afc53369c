package wire

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/internal/tests/netstub"
)

// fakeEngine serves /_ping with the given API version and routes the rest
// to h.
func fakeEngine(t *testing.T, apiVersion string, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_ping" {
			w.Header().Set("API-Version", apiVersion)
			w.Write([]byte("OK"))
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(WithHost("tcp://" + strings.TrimPrefix(srv.URL, "http://")))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestVersionNegotiation(t *testing.T) {
	tests := []struct {
		server, want string
		wantErr      bool
	}{
		{"1.41", "1.41", false},
		{"1.43", "1.43", false},
		{"1.99", MaxAPIVersion, false},
		{"1.40", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.server, func(t *testing.T) {
			var gotPath string
			c := fakeEngine(t, tt.server, func(w http.ResponseWriter, r *http.Request) {
				gotPath = r.URL.Path
				w.Write([]byte(`{}`))
			})
			v, err := c.Version(context.Background())
			if tt.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "upgrade the engine")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, v)
			require.NoError(t, c.DoJSON(context.Background(), Request{Method: "GET", Path: "/info"}, nil))
			assert.Equal(t, "/v"+tt.want+"/info", gotPath)
		})
	}
}

func TestAPIErrors(t *testing.T) {
	tests := []struct {
		status int
		body   string
		is     error
	}{
		{404, `{"message":"No such container: x"}`, ErrNotFound},
		{409, `{"message":"name in use"}`, ErrConflict},
		{401, `{"message":"nope"}`, ErrUnauthorized},
		{500, `{"message":"Head https://localhost:5000/v2/x/manifests/1: no basic auth credentials"}`, ErrUnauthorized},
		{304, ``, ErrNotModified},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			c := fakeEngine(t, "1.41", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			})
			_, err := c.ContainerInspect(context.Background(), "x")
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.is)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.StatusCode)
		})
	}
}

// TestPodmanAnswers covers answers where Podman's Docker API differs from
// dockerd's: missing objects reported with 500, and 404 for endpoints it
// does not have, which must not look like a missing object.
func TestPodmanAnswers(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		is     []error
		isNot  []error
	}{
		{"network missing at create", 500, `{"cause":"network not found","message":"container create: unable to find network with name or ID x: network not found","response":500}`, []error{ErrNotFound}, []error{ErrConflict, ErrUnsupported}},
		{"name taken", 500, `{"message":"creating container storage: the container name \"x\" is already in use"}`, []error{ErrConflict}, []error{ErrNotFound}},
		{"endpoint missing, Podman", 404, "Not Found\n", []error{ErrUnsupported}, []error{ErrNotFound}},
		{"endpoint missing, dockerd", 404, `{"message":"page not found"}`, []error{ErrUnsupported}, []error{ErrNotFound}},
		{"object missing", 404, `{"cause":"no such container","message":"no such container"}`, []error{ErrNotFound}, []error{ErrUnsupported}},
		{"other 500", 500, `{"message":"runc failed"}`, nil, []error{ErrNotFound, ErrConflict, ErrUnsupported}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeEngine(t, "1.41", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			})
			_, err := c.ContainerInspect(context.Background(), "x")
			require.Error(t, err)
			for _, want := range tt.is {
				assert.ErrorIs(t, err, want)
			}
			for _, not := range tt.isNot {
				assert.NotErrorIs(t, err, not)
			}
		})
	}
}

func TestIsPodman(t *testing.T) {
	for server, want := range map[string]bool{"Libpod/4.3.1 (linux)": true, "Docker/20.10.24 (linux)": false, "": false} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("API-Version", "1.41")
			w.Header().Set("Server", server)
			w.Write([]byte("OK"))
		}))
		c, err := New(WithHost("tcp://" + strings.TrimPrefix(srv.URL, "http://")))
		require.NoError(t, err)
		assert.Equal(t, want, c.IsPodman(context.Background()), "Server %q", server)
		c.Close()
		srv.Close()
	}
	// An engine that cannot be asked is not taken for Podman.
	c, err := New(WithHost("tcp://127.0.0.1:1"))
	require.NoError(t, err)
	defer c.Close()
	assert.False(t, c.IsPodman(context.Background()))
}

func TestInternalServerErrorKeepsMessage(t *testing.T) {
	c := fakeEngine(t, "1.41", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message":"driver failed programming external connectivity"}`, 500)
	})
	err := c.ContainerStart(context.Background(), "abc")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "driver failed programming external connectivity")
	assert.Contains(t, err.Error(), "/containers/abc/start")
	assert.NotErrorIs(t, err, ErrNotFound)
}

func TestSlowHeaderHonoursContext(t *testing.T) {
	release := make(chan struct{})
	c := fakeEngine(t, "1.41", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	_, err := c.Version(context.Background())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.ContainerInspect(ctx, "x")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestTornJSONStream(t *testing.T) {
	c := fakeEngine(t, "1.41", func(w http.ResponseWriter, r *http.Request) {
		// Torn: the connection ends mid-message, mid-chunk.
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		body := `{"status":"Pulling"}` + "\n" + `{"status":"Downlo`
		fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s", len(body)+20, body)
		conn.Close()
	})
	var seen []string
	err := c.ImagePull(context.Background(), "x", "1", "", "", func(m JSONMessage) error {
		seen = append(seen, m.Status)
		return nil
	})
	require.Error(t, err)
	assert.Equal(t, []string{"Pulling"}, seen)
}

func TestStreamErrorSurfaced(t *testing.T) {
	c := fakeEngine(t, "1.41", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `{"status":"Pulling from private/base"}`)
		fmt.Fprintln(w, `{"errorDetail":{"message":"unauthorized: authentication required"},"error":"unauthorized: authentication required"}`)
	})
	err := c.ImagePull(context.Background(), "localhost:5000/private/base", "1", "", "", nil)
	var se *StreamError
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, ErrUnauthorized)
}

func TestBadJSONLine(t *testing.T) {
	err := DecodeStream(strings.NewReader(`{"stream":"ok"}`+"\n"+`{"stream": nope}`), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decode stream message")
}

func TestDecodeStreamOrder(t *testing.T) {
	in := `{"stream":"Step 1/2"}{"stream":"Step 2/2"}` + "\n" + `{"aux":{"ID":"sha256:abc"}}`
	var got []JSONMessage
	require.NoError(t, DecodeStream(strings.NewReader(in), func(m JSONMessage) error {
		got = append(got, m)
		return nil
	}))
	require.Len(t, got, 3)
	var aux struct{ ID string }
	require.NoError(t, DecodeAux(got[2], &aux))
	assert.Equal(t, "sha256:abc", aux.ID)
}

func TestDemux(t *testing.T) {
	var in bytes.Buffer
	in.Write(netstub.Frame(1, "out1\n"))
	in.Write(netstub.Frame(2, "err1\n"))
	in.Write(netstub.Frame(1, ""))
	in.Write(netstub.Frame(1, "out2\n"))
	var out, errb bytes.Buffer
	require.NoError(t, Demux(&in, &out, &errb))
	assert.Equal(t, "out1\nout2\n", out.String())
	assert.Equal(t, "err1\n", errb.String())
}

// TestDemuxPodmanReplay covers Podman 4.3's attach replay of logs, whose
// frame sizes leave out each line's newline.
func TestDemuxPodmanReplay(t *testing.T) {
	short := func(kind byte, line string) []byte {
		f := netstub.Frame(kind, line)
		binary.BigEndian.PutUint32(f[4:], uint32(len(line)-1))
		return f
	}
	var in bytes.Buffer
	in.Write(short(1, "said\n"))
	in.Write(short(2, "complained\n"))
	in.Write(netstub.Frame(1, "live\n"))
	in.Write(short(2, "last\n"))
	var out, errb bytes.Buffer
	require.NoError(t, Demux(&in, &out, &errb))
	assert.Equal(t, "said\nlive\n", out.String())
	assert.Equal(t, "complained\nlast\n", errb.String())
	// A newline before any frame is still not a header.
	require.Error(t, Demux(bytes.NewReader([]byte("\nplain text")), io.Discard, io.Discard))
}

func TestDemuxCorners(t *testing.T) {
	torn := netstub.Frame(1, "hello")[:10]
	huge := make([]byte, 8)
	huge[0] = 1
	binary.BigEndian.PutUint32(huge[4:], MaxFrame+1)
	tests := []struct {
		name string
		in   []byte
		want error
		msg  string
	}{
		{"torn payload", torn, io.ErrUnexpectedEOF, ""},
		{"torn header", netstub.Frame(1, "x")[:5], io.ErrUnexpectedEOF, ""},
		{"oversize frame", huge, ErrFrameTooLarge, ""},
		{"system error", netstub.Frame(3, "boom"), nil, "boom"},
		{"tty data", []byte("plain text output"), nil, "unknown stream kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Demux(bytes.NewReader(tt.in), io.Discard, io.Discard)
			require.Error(t, err)
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
			}
			if tt.msg != "" {
				assert.Contains(t, err.Error(), tt.msg)
			}
		})
	}
}

func TestMissingSocketIsDaemonUnreachableFast(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "no.sock")
	c, err := New(WithHost("unix://" + sock))
	require.NoError(t, err)
	start := time.Now()
	_, err = c.Version(context.Background())
	require.Error(t, err)
	assert.Less(t, time.Since(start), time.Second)
	assert.ErrorIs(t, err, ErrDaemonUnreachable)
	assert.Contains(t, err.Error(), sock)
	assert.Contains(t, err.Error(), "DOCKER_HOST")
}

func TestPlainHTTPAgainstTLSPortIsClear(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	c, err := New(WithHost("tcp://" + strings.TrimPrefix(srv.URL, "https://")))
	require.NoError(t, err)
	_, err = c.Version(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DOCKER_TLS_VERIFY")
}

func TestHijackReplaysBufferedBytes(t *testing.T) {
	addr := netstub.Serve(t, func(conn net.Conn) {
		br := bufio.NewReader(conn)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if req.URL.Path == "/_ping" {
			fmt.Fprint(conn, "HTTP/1.1 200 OK\r\nAPI-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK")
			return
		}
		io.Copy(io.Discard, req.Body)
		// The 101 and the first output in one write, so they share
		// the client's buffer.
		fmt.Fprintf(conn, "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n%s", netstub.Frame(1, "early\n"))
		in, _ := io.ReadAll(br) // until the client's CloseWrite
		conn.Write(netstub.Frame(1, "echo:"+string(in)))
	})
	c, err := New(WithHost("tcp://" + addr))
	require.NoError(t, err)
	hc, err := c.ExecStart(context.Background(), "abc", false)
	require.NoError(t, err)
	defer hc.Close()
	_, err = hc.Write([]byte("stdin data"))
	require.NoError(t, err)
	require.NoError(t, hc.CloseWrite())
	var out bytes.Buffer
	require.NoError(t, Demux(hc, &out, nil))
	assert.Equal(t, "early\necho:stdin data", out.String())
}

func TestEndpointFromEnv(t *testing.T) {
	writeContext := func(t *testing.T, dir, name, host string) {
		t.Helper()
		id := contextID(name)
		meta := filepath.Join(dir, "contexts", "meta", id)
		require.NoError(t, os.MkdirAll(meta, 0o755))
		body := fmt.Sprintf(`{"Name":%q,"Metadata":{},"Endpoints":{"docker":{"Host":%q,"SkipTLSVerify":false}}}`, name, host)
		require.NoError(t, os.WriteFile(filepath.Join(meta, "meta.json"), []byte(body), 0o644))
	}
	// dockerEnv sets DOCKER_HOST and DOCKER_CONTEXT and points
	// DOCKER_CONFIG at a fresh directory, which it returns.
	dockerEnv := func(t *testing.T, host, dockerContext string) string {
		t.Helper()
		dir := t.TempDir()
		t.Setenv("DOCKER_CONFIG", dir)
		t.Setenv("DOCKER_HOST", host)
		t.Setenv("DOCKER_CONTEXT", dockerContext)
		return dir
	}
	t.Run("DOCKER_HOST wins", func(t *testing.T) {
		dockerEnv(t, "tcp://10.0.0.1:2375", "remote")
		ep, err := EndpointFromEnv()
		require.NoError(t, err)
		assert.Equal(t, Endpoint{Host: "tcp://10.0.0.1:2375", From: "DOCKER_HOST"}, ep)
	})
	t.Run("DOCKER_CONTEXT", func(t *testing.T) {
		dir := dockerEnv(t, "", "remote")
		writeContext(t, dir, "remote", "unix:///run/remote.sock")
		ep, err := EndpointFromEnv()
		require.NoError(t, err)
		assert.Equal(t, "unix:///run/remote.sock", ep.Host)
		assert.Equal(t, "context remote", ep.From)
	})
	t.Run("currentContext in config.json", func(t *testing.T) {
		dir := dockerEnv(t, "", "")
		writeContext(t, dir, "ci", "tcp://127.0.0.1:2375")
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"currentContext":"ci"}`), 0o600))
		ep, err := EndpointFromEnv()
		require.NoError(t, err)
		assert.Equal(t, "tcp://127.0.0.1:2375", ep.Host)
		assert.Equal(t, "context ci", ep.From)
	})
	t.Run("default", func(t *testing.T) {
		dockerEnv(t, "", "")
		// No socket anywhere the search looks (discover_test.go tests it).
		t.Setenv("HOME", t.TempDir())
		t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
		t.Cleanup(SetSearchRoot(t.TempDir()))
		ep, err := EndpointFromEnv()
		require.NoError(t, err)
		assert.Equal(t, DefaultHost, ep.Host)
		assert.Equal(t, "default", ep.From)
	})
	t.Run("unknown context", func(t *testing.T) {
		dockerEnv(t, "", "nope")
		_, err := EndpointFromEnv()
		require.Error(t, err)
		assert.Contains(t, err.Error(), `docker context "nope" not found`)
	})
	t.Run("bad scheme", func(t *testing.T) {
		t.Setenv("DOCKER_HOST", "npipe:////./pipe/docker_engine")
		_, err := EndpointFromEnv()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "not supported")
	})
	t.Run("TLS verify without CA", func(t *testing.T) {
		t.Setenv("DOCKER_HOST", "tcp://127.0.0.1:2376")
		t.Setenv("DOCKER_TLS_VERIFY", "1")
		t.Setenv("DOCKER_CERT_PATH", t.TempDir())
		_, err := EndpointFromEnv()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "DOCKER_CERT_PATH")
	})
	t.Run("broken config.json", func(t *testing.T) {
		dir := dockerEnv(t, "", "")
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":`), 0o600))
		_, err := EndpointFromEnv()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "not valid JSON")
	})
}

func TestEventsEndWithContext(t *testing.T) {
	c := fakeEngine(t, "1.41", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `{"Type":"container","Action":"start","Actor":{"ID":"abc"}}`)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	evs, errc := c.Events(ctx, Filters{"type": {"container"}})
	ev := <-evs
	assert.Equal(t, "start", ev.Action)
	assert.Equal(t, "abc", ev.Actor.ID)
	cancel()
	for range evs {
	}
	assert.NoError(t, <-errc)
}

func FuzzDemux(f *testing.F) {
	f.Add(append(netstub.Frame(1, "out"), netstub.Frame(2, "err")...))
	f.Add(netstub.Frame(3, "sys"))
	f.Add([]byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		var out, errb bytes.Buffer
		err := Demux(bytes.NewReader(data), &out, &errb)
		if out.Len()+errb.Len() > len(data) {
			t.Fatalf("demux produced more bytes (%d) than it read (%d)", out.Len()+errb.Len(), len(data))
		}
		if out.Len()+errb.Len() > 0 && len(data) < 8 {
			t.Fatalf("demux produced output from %d bytes, less than one frame header", len(data))
		}
		// How the stream is cut into reads does not matter.
		var out1, errb1 bytes.Buffer
		err1 := Demux(iotest.OneByteReader(bytes.NewReader(data)), &out1, &errb1)
		if (err == nil) != (err1 == nil) || !bytes.Equal(out.Bytes(), out1.Bytes()) || !bytes.Equal(errb.Bytes(), errb1.Bytes()) {
			t.Fatalf("one byte per read: err %v, %d+%d bytes; whole: err %v, %d+%d bytes", err1, out1.Len(), errb1.Len(), err, out.Len(), errb.Len())
		}
	})
}

func FuzzDecodeStream(f *testing.F) {
	f.Add([]byte(`{"status":"x"}{"error":"bad"}`))
	f.Add([]byte(`{"aux":{"ID":"sha256:1"}}` + "\n"))
	f.Add([]byte(`{"errorDetail":{"code":401}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		err := DecodeStream(bytes.NewReader(data), func(JSONMessage) error { n++; return nil })
		var se *StreamError
		if errors.As(err, &se) && se.Message == "" && se.Code == 0 {
			// An error message with neither text nor code still ends the stream.
			return
		}
		_ = n
	})
}
