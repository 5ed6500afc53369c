//go:build !mutation

// Needs an engine: left out of mutation runs (scripts/mutation.sh).

package wire

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests run against the real engine named by the environment.

const testImage = "busybox:1.36"

var (
	engineOnce sync.Once
	engine     *Client
	engineErr  error
)

func realEngine(t testing.TB) *Client {
	t.Helper()
	engineOnce.Do(func() {
		engine, engineErr = New()
		if engineErr == nil {
			_, engineErr = engine.Version(context.Background())
		}
	})
	require.NoError(t, engineErr, "these tests need a running engine: make engine")
	return engine
}

// runID keeps two runs of this suite on one engine apart.
var runID = fmt.Sprintf("wire-test-%d-%d", os.Getpid(), time.Now().UnixNano())

func testLabels(t testing.TB) map[string]string {
	return map[string]string{"berth.session": runID, "berth.test": t.Name(), "berth.pid": strconv.Itoa(os.Getpid())}
}

// run creates and starts a busybox container running cmd and removes it at
// the end of the test.
func run(t *testing.T, c *Client, cfg *ContainerConfig) string {
	t.Helper()
	ctx := context.Background()
	if cfg.Image == "" {
		cfg.Image = testImage
	}
	cfg.Labels = testLabels(t)
	resp, err := c.ContainerCreate(ctx, "", cfg, "")
	require.NoError(t, err)
	t.Cleanup(func() {
		c.ContainerRemove(context.Background(), resp.ID, RemoveOptions{Force: true, Volumes: true})
	})
	require.NoError(t, c.ContainerStart(ctx, resp.ID))
	return resp.ID
}

func TestEngineSystem(t *testing.T) {
	t.Parallel()
	c := realEngine(t)
	ctx := context.Background()
	p, err := c.PingInfo(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, p.APIVersion)
	v, err := c.ServerVersion(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, v.Version)
	info, err := c.Info(ctx)
	require.NoError(t, err)
	assert.Greater(t, info.NCPU, 0)
	ok, err := c.VersionAtLeast(ctx, MinAPIVersion)
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestEngineContainerLifecycle(t *testing.T) {
	t.Parallel()
	c := realEngine(t)
	ctx := context.Background()
	id := run(t, c, &ContainerConfig{Cmd: []string{"sh", "-c", "echo out; echo err >&2; exec sleep 3600"}})

	info, err := c.ContainerInspect(ctx, id)
	require.NoError(t, err)
	assert.True(t, info.State.Running)
	assert.Equal(t, runID, info.Config.Labels["berth.session"])

	list, err := c.ContainerList(ctx, false, Filters{"label": {"berth.session=" + runID, "berth.test=" + t.Name()}})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, id, list[0].ID)

	// Logs, demultiplexed.
	var out, errb bytes.Buffer
	require.Eventually(t, func() bool {
		out.Reset()
		errb.Reset()
		body, err := c.ContainerLogs(ctx, id, LogsOptions{Stdout: true, Stderr: true})
		if err != nil {
			return false
		}
		defer body.Close()
		Demux(body, &out, &errb)
		return out.String() == "out\n" && errb.String() == "err\n"
	}, 5*time.Second, 10*time.Millisecond)

	top, err := c.ContainerTop(ctx, id, "")
	require.NoError(t, err)
	assert.Contains(t, fmt.Sprint(top.Processes), "sleep")

	stats, err := c.ContainerStats(ctx, id, false)
	require.NoError(t, err)
	var s StatsJSON
	require.NoError(t, json.NewDecoder(stats).Decode(&s))
	stats.Close()
	assert.Greater(t, s.MemoryStats.Usage, uint64(0))

	require.NoError(t, c.ContainerPause(ctx, id))
	info, err = c.ContainerInspect(ctx, id)
	require.NoError(t, err)
	assert.True(t, info.State.Paused)
	require.NoError(t, c.ContainerUnpause(ctx, id))

	zero := 0
	require.NoError(t, c.ContainerRestart(ctx, id, &zero))
	require.NoError(t, c.ContainerKill(ctx, id, "SIGKILL"))
	w, err := c.ContainerWait(ctx, id, "not-running")
	require.NoError(t, err)
	assert.Equal(t, int64(137), w.StatusCode)
	require.NoError(t, c.ContainerStart(ctx, id))
	require.NoError(t, c.ContainerStop(ctx, id, &zero))

	require.NoError(t, c.ContainerRemove(ctx, id, RemoveOptions{Force: true}))
	_, err = c.ContainerInspect(ctx, id)
	assert.ErrorIs(t, err, ErrNotFound)
	err = c.ContainerRemove(ctx, id, RemoveOptions{Force: true})
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestEngineArchive(t *testing.T) {
	t.Parallel()
	c := realEngine(t)
	ctx := context.Background()
	id := run(t, c, &ContainerConfig{Cmd: []string{"sleep", "3600"}})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o640, Size: 5, Typeflag: tar.TypeReg}))
	tw.Write([]byte("hello"))
	tw.Close()
	require.NoError(t, c.CopyToContainer(ctx, id, "/", &buf))
	st, err := c.ContainerStatPath(ctx, id, "/hello.txt")
	require.NoError(t, err)
	assert.Equal(t, int64(5), st.Size)
	assert.Equal(t, "hello.txt", st.Name)
	rc, st2, err := c.CopyFromContainer(ctx, id, "/hello.txt")
	require.NoError(t, err)
	defer rc.Close()
	assert.Equal(t, st, st2)
	tr := tar.NewReader(rc)
	hdr, err := tr.Next()
	require.NoError(t, err)
	assert.Equal(t, int64(0o640), hdr.Mode&0o777)
	data, _ := io.ReadAll(tr)
	assert.Equal(t, "hello", string(data))
	_, err = c.ContainerStatPath(ctx, id, "/nope")
	assert.ErrorIs(t, err, ErrNotFound)
	changes, err := c.ContainerChanges(ctx, id)
	require.NoError(t, err)
	assert.Contains(t, fmt.Sprint(changes), "/hello.txt")
}

func TestEngineExecHijack(t *testing.T) {
	t.Parallel()
	c := realEngine(t)
	ctx := context.Background()
	id := run(t, c, &ContainerConfig{Cmd: []string{"sleep", "3600"}})
	execID, err := c.ExecCreate(ctx, id, ExecConfig{Cmd: []string{"sh", "-c", "cat; echo done >&2; exit 4"}, AttachStdin: true, AttachStdout: true, AttachStderr: true})
	require.NoError(t, err)
	conn, err := c.ExecStart(ctx, execID, false)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "through stdin\n")
	require.NoError(t, err)
	require.NoError(t, conn.CloseWrite(), "stdin EOF must reach cat")
	var out, errb bytes.Buffer
	require.NoError(t, Demux(conn, &out, &errb))
	assert.Equal(t, "through stdin\n", out.String())
	assert.Equal(t, "done\n", errb.String())
	require.Eventually(t, func() bool {
		ins, err := c.ExecInspect(ctx, execID)
		return err == nil && !ins.Running && ins.ExitCode == 4
	}, 5*time.Second, 5*time.Millisecond)
}

func TestEngineAttach(t *testing.T) {
	t.Parallel()
	c := realEngine(t)
	ctx := context.Background()
	cfg := &ContainerConfig{Image: testImage, Cmd: []string{"sh", "-c", "read line; echo got:$line; echo e >&2"}, OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true, AttachStderr: true, Labels: testLabels(t)}
	resp, err := c.ContainerCreate(ctx, "", cfg, "")
	require.NoError(t, err)
	defer c.ContainerRemove(context.Background(), resp.ID, RemoveOptions{Force: true})
	conn, err := c.ContainerAttach(ctx, resp.ID, AttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, c.ContainerStart(ctx, resp.ID))
	io.WriteString(conn, "ping\n")
	conn.CloseWrite()
	var out, errb bytes.Buffer
	require.NoError(t, Demux(conn, &out, &errb))
	assert.Equal(t, "got:ping\n", out.String())
	assert.Equal(t, "e\n", errb.String())
}

func TestEngineEvents(t *testing.T) {
	t.Parallel()
	c := realEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	evs, errc := c.Events(ctx, Filters{"type": {"container"}, "label": {"berth.session=" + runID, "berth.test=" + t.Name()}, "event": {"start"}})
	id := run(t, c, &ContainerConfig{Cmd: []string{"true"}})
	select {
	case ev := <-evs:
		assert.Equal(t, "start", ev.Action)
		assert.Equal(t, id, ev.Actor.ID)
	case err := <-errc:
		t.Fatalf("events ended: %v", err)
	case <-ctx.Done():
		t.Fatal("no start event")
	}
	cancel()
	for range evs {
	}
}

func TestEngineImages(t *testing.T) {
	t.Parallel()
	c := realEngine(t)
	ctx := context.Background()
	img, err := c.ImageInspect(ctx, testImage)
	require.NoError(t, err)
	repo := "berth-wire-test/tagged-" + runID
	require.NoError(t, c.ImageTag(ctx, testImage, repo, "t1"))
	t.Cleanup(func() { c.ImageRemove(context.Background(), repo+":t1", false, false) })
	tagged, err := c.ImageInspect(ctx, repo+":t1")
	require.NoError(t, err)
	assert.Equal(t, img.ID, tagged.ID)
	list, err := c.ImageList(ctx, Filters{"reference": {repo}})
	require.NoError(t, err)
	require.Len(t, list, 1)

	// Save and load round trip under a new tag.
	rc, err := c.ImageSave(ctx, repo+":t1")
	require.NoError(t, err)
	saved, err := io.ReadAll(rc)
	rc.Close()
	require.NoError(t, err)
	require.NoError(t, c.ImageRemove(ctx, repo+":t1", false, false))
	require.NoError(t, c.ImageLoad(ctx, bytes.NewReader(saved), nil))
	_, err = c.ImageInspect(ctx, repo+":t1")
	require.NoError(t, err)

	_, err = c.ImageInspect(ctx, "berth-wire-test/absent:1")
	assert.ErrorIs(t, err, ErrNotFound)
	err = c.ImagePull(ctx, "localhost:1/berth/absent", "1", "", "", nil)
	require.Error(t, err)
}

func TestEngineBuildAndCommit(t *testing.T) {
	t.Parallel()
	c := realEngine(t)
	ctx := context.Background()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	df := "FROM " + testImage + "\nRUN echo built > /built\nLABEL berth.session=" + runID + "\n"
	tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(df))})
	tw.Write([]byte(df))
	tw.Close()
	var id string
	var log strings.Builder
	err := c.ImageBuild(ctx, &buf, map[string][]string{"rm": {"1"}, "forcerm": {"1"}}, "", func(m JSONMessage) error {
		log.WriteString(m.Stream)
		if len(m.Aux) > 0 {
			var aux struct{ ID string }
			if DecodeAux(m, &aux) == nil && aux.ID != "" {
				id = aux.ID
			}
		}
		return nil
	})
	require.NoError(t, err, log.String())
	require.NotEmpty(t, id)
	t.Cleanup(func() { c.ImageRemove(context.Background(), id, true, false) })

	// A failing build reports the step inside the stream.
	buf.Reset()
	tw = tar.NewWriter(&buf)
	bad := "FROM " + testImage + "\nRUN exit 9\n"
	tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(bad))})
	tw.Write([]byte(bad))
	tw.Close()
	err = c.ImageBuild(ctx, &buf, map[string][]string{"rm": {"1"}, "forcerm": {"1"}}, "", nil)
	var se *StreamError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Message, "exit 9")

	cid := run(t, c, &ContainerConfig{Image: id, Cmd: []string{"sh", "-c", "echo more > /more; sleep 3600"}})
	require.Eventually(t, func() bool {
		_, err := c.ContainerStatPath(ctx, cid, "/more")
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	img, err := c.ContainerCommit(ctx, cid, CommitOptions{Repo: "berth-wire-test/committed-" + runID, Tag: "1", Changes: []string{"LABEL berth.session=" + runID}})
	require.NoError(t, err)
	t.Cleanup(func() { c.ImageRemove(context.Background(), img, true, false) })
	ins, err := c.ImageInspect(ctx, "berth-wire-test/committed-"+runID+":1")
	require.NoError(t, err)
	assert.Equal(t, img, ins.ID)
}

func TestEngineNetworksAndVolumes(t *testing.T) {
	t.Parallel()
	c := realEngine(t)
	ctx := context.Background()
	name := fmt.Sprintf("berth-wire-net-%d", time.Now().UnixNano())
	netID, err := c.NetworkCreate(ctx, NetworkCreate{Name: name, CheckDuplicate: true, Driver: "bridge", Labels: testLabels(t)})
	require.NoError(t, err)
	t.Cleanup(func() { c.NetworkRemove(context.Background(), netID) })
	_, err = c.NetworkCreate(ctx, NetworkCreate{Name: name, CheckDuplicate: true, Labels: testLabels(t)})
	assert.ErrorIs(t, err, ErrConflict)

	id := run(t, c, &ContainerConfig{Cmd: []string{"sleep", "3600"}})
	require.NoError(t, c.NetworkConnect(ctx, netID, id, []string{"svc"}))
	n, err := c.NetworkInspect(ctx, netID)
	require.NoError(t, err)
	assert.Contains(t, n.Containers, id)
	info, err := c.ContainerInspect(ctx, id)
	require.NoError(t, err)
	assert.Contains(t, info.NetworkSettings.Networks[name].Aliases, "svc")
	require.NoError(t, c.NetworkDisconnect(ctx, netID, id, true))
	list, err := c.NetworkList(ctx, Filters{"label": {"berth.session=" + runID, "berth.test=" + t.Name()}})
	require.NoError(t, err)
	assert.Len(t, list, 1)
	require.NoError(t, c.NetworkRemove(ctx, netID))
	_, err = c.NetworkInspect(ctx, netID)
	assert.ErrorIs(t, err, ErrNotFound)

	vname := name + "-vol"
	v, err := c.VolumeCreate(ctx, vname, testLabels(t))
	require.NoError(t, err)
	assert.Equal(t, vname, v.Name)
	vols, err := c.VolumeList(ctx, Filters{"label": {"berth.session=" + runID, "berth.test=" + t.Name()}})
	require.NoError(t, err)
	assert.Len(t, vols, 1)
	require.NoError(t, c.VolumeRemove(ctx, vname, false))
	assert.ErrorIs(t, c.VolumeRemove(ctx, vname, false), ErrNotFound)
}

func TestEngineAuthRefusesBadRegistry(t *testing.T) {
	t.Parallel()
	c := realEngine(t)
	// Nothing listens on port 1: the engine reports the failure as an API
	// error rather than a transport one.
	_, err := c.Auth(context.Background(), map[string]string{"username": "u", "password": "secret-pw-123", "serveraddress": "localhost:1"})
	require.Error(t, err)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.NotContains(t, err.Error(), "secret-pw-123")
}

// rawClient makes the same calls as the Client with plain net/http, as the
// baseline of BenchmarkCreateStartRemove.
type rawClient struct {
	hc      *http.Client
	version string
}

func newRawClient(version string) *rawClient {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", "/var/run/docker.sock")
	}, MaxIdleConnsPerHost: 64}
	return &rawClient{hc: &http.Client{Transport: tr}, version: version}
}

func (r *rawClient) call(method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://docker/v"+r.version+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	io.Copy(io.Discard, resp.Body)
	return nil
}

// BenchmarkCreateStartRemove compares wire with plain net/http for the
// three calls of a container's life. Compare the two sub-benchmarks'
// ns/op; the goal is wire within 5 % of raw.
func BenchmarkCreateStartRemove(b *testing.B) {
	c := realEngine(b)
	ctx := context.Background()
	v, err := c.Version(ctx)
	require.NoError(b, err)
	cfg := &ContainerConfig{Image: testImage, Cmd: []string{"sleep", "3600"}, Labels: testLabels(b)}
	b.Run("wire", func(b *testing.B) {
		for b.Loop() {
			resp, err := c.ContainerCreate(ctx, "", cfg, "")
			if err != nil {
				b.Fatal(err)
			}
			if err := c.ContainerStart(ctx, resp.ID); err != nil {
				b.Fatal(err)
			}
			if err := c.ContainerRemove(ctx, resp.ID, RemoveOptions{Force: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
	raw := newRawClient(v)
	b.Run("raw", func(b *testing.B) {
		for b.Loop() {
			var resp CreateResponse
			if err := raw.call("POST", "/containers/create", cfg, &resp); err != nil {
				b.Fatal(err)
			}
			if err := raw.call("POST", "/containers/"+resp.ID+"/start", nil, nil); err != nil {
				b.Fatal(err)
			}
			if err := raw.call("DELETE", "/containers/"+resp.ID+"?force=1", nil, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
