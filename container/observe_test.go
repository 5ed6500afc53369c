package container_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
)

func TestTop(t *testing.T) {
	h, c := sleeping(t)

	tests := []struct {
		psArgs, column string
	}{
		{"", "CMD"},
		{"-o pid,args", "COMMAND"},
		{"aux", "COMMAND"},
	}
	// Start returns a moment before runc execs the command: until then
	// ps shows "runc init".
	require.Eventually(t, func() bool {
		p, err := c.Top(t.Context(), "")
		return err == nil && len(p.Rows) == 1 && len(p.Column("CMD")) == 1 && p.Column("CMD")[0] == "sleep 3600"
	}, 10*time.Second, 10*time.Millisecond)
	for _, tt := range tests {
		t.Run(tt.psArgs, func(t *testing.T) {
			p, err := c.Top(t.Context(), tt.psArgs)
			require.NoError(t, err)
			assert.Contains(t, p.Titles, "PID")
			require.Len(t, p.Rows, 1, "only the container's own process: %v", p.Rows)
			assert.Equal(t, []string{"sleep 3600"}, p.Column(tt.column))
			assert.Nil(t, p.Column("NO-SUCH-COLUMN"))
		})
	}

	t.Run("bad ps arguments", func(t *testing.T) {
		_, err := c.Top(t.Context(), "--no-such-option")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "top of "+c.String())
	})
	t.Run("stopped", func(t *testing.T) {
		d := exited(t, h, "", "true")
		_, err := d.Top(t.Context(), "")
		require.ErrorIs(t, err, container.ErrNotRunning)
		assert.Contains(t, err.Error(), "start it first")
	})
}

func TestStats(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	c := h.Container(busybox).
		Cmd("sh", "-c", "head -c 20m /dev/zero > /dev/shm/fill; mkdir /www; echo hello > /www/index.html; "+
			"(while :; do :; done) & exec httpd -f -p 8080 -h /www").
		Port("8080/tcp").
		Memory(256 << 20).
		Start()

	// Traffic in and out, so the network counters move.
	url := c.Endpoint(ctx, "8080/tcp")
	require.Eventually(t, func() bool {
		resp, err := http.Get(url + "/index.html")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body) == "hello\n"
	}, 10*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool {
		out, _ := c.Exec(ctx, []string{"stat", "-c", "%s", "/dev/shm/fill"})
		return strings.TrimSpace(string(out.Stdout)) == "20971520"
	}, 10*time.Second, 50*time.Millisecond)

	start := time.Now()
	s, err := c.Stats(ctx)
	require.NoError(t, err)
	t.Logf("stats: %s", s)
	assert.WithinDuration(t, time.Now(), s.Read, time.Minute)
	assert.False(t, s.Read.Before(start.Add(-time.Second)), "sample taken by this call")
	assert.Greater(t, s.CPUPercent, 1.0, "a busy loop runs (however busy the machine)")
	assert.LessOrEqual(t, s.CPUPercent, float64(s.OnlineCPUs)*100+1)
	assert.GreaterOrEqual(t, s.OnlineCPUs, 1)
	assert.GreaterOrEqual(t, s.MemoryUsage, uint64(20<<20), "the 20 MiB in /dev/shm count")
	assert.Less(t, s.MemoryUsage, uint64(256<<20))
	assert.Equal(t, uint64(256<<20), s.MemoryLimit)
	assert.InDelta(t, float64(s.MemoryUsage)/float64(256<<20)*100, s.MemoryPercent, 0.001)
	assert.Greater(t, s.NetworkRx, uint64(0))
	assert.Greater(t, s.NetworkTx, uint64(0))
	assert.GreaterOrEqual(t, s.Pids, uint64(2), "shell loop and httpd")
	assert.Equal(t, uint64(0), s.PidsLimit)
	assert.Contains(t, s.String(), "MiB / 256.00MiB")
}

func TestStreamStats(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	c := h.Container(busybox).Cmd("sh", "-c", "while :; do :; done").Start()

	t.Run("until ctx ends", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 3500*time.Millisecond)
		defer cancel()
		var samples []container.Stats
		err := c.StreamStats(ctx, func(s container.Stats) { samples = append(samples, s) })
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(samples), 2, "about one sample a second")
		for i, s := range samples[1:] {
			assert.True(t, s.Read.After(samples[i].Read), "samples in order")
			assert.Greater(t, s.CPUPercent, 1.0, "the busy loop shows in every sample after the first")
			assert.GreaterOrEqual(t, s.Pids, uint64(1))
		}
	})

	t.Run("until the container stops", func(t *testing.T) {
		d := h.Container(busybox).Cmd("sleep", "3600").Start()
		got := make(chan container.Stats, 100)
		errc := make(chan error, 1)
		go func() { errc <- d.StreamStats(t.Context(), func(s container.Stats) { got <- s }) }()
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("no sample within 10s")
		}
		require.NoError(t, d.Kill(t.Context(), ""))
		select {
		case err := <-errc:
			require.NoError(t, err)
		case <-time.After(15 * time.Second):
			t.Fatal("StreamStats did not return after the container stopped")
		}
	})

	t.Run("stopped container", func(t *testing.T) {
		d := exited(t, h, "", "true")
		_, err := d.Stats(t.Context())
		require.ErrorIs(t, err, container.ErrNotRunning)
	})
}

func TestChanges(t *testing.T) {
	_, c := sleeping(t)
	exec(t, c.Container, "sh", "-c", "mkdir /newdir && echo x > /newdir/f && rm /bin/vi")

	changes, err := c.Changes(t.Context())
	require.NoError(t, err)
	got := map[string]container.ChangeKind{}
	for _, ch := range changes {
		got[ch.Path] = ch.Kind
	}
	tests := []struct {
		path string
		kind container.ChangeKind
		diff string
	}{
		{"/newdir", container.Added, "A /newdir"},
		{"/newdir/f", container.Added, "A /newdir/f"},
		{"/bin/vi", container.Deleted, "D /bin/vi"},
		{"/bin", container.Modified, "C /bin"},
	}
	for _, tt := range tests {
		kind, ok := got[tt.path]
		if assert.True(t, ok, "%s in %v", tt.path, changes) {
			assert.Equal(t, tt.kind, kind, tt.path)
			assert.Equal(t, tt.diff, container.Change{Path: tt.path, Kind: kind}.String())
		}
	}
	assert.NotContains(t, got, "/bin/busybox", "untouched files are not listed")
	assert.Equal(t, "ChangeKind(9)", container.ChangeKind(9).String())
}

// failingWriter accepts limit bytes and then fails.
type failingWriter struct {
	limit int
	err   error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) <= w.limit {
		w.limit -= len(p)
		return len(p), nil
	}
	n := w.limit
	w.limit = 0
	return n, w.err
}

func TestExport(t *testing.T) {
	_, c := sleeping(t)
	ctx := t.Context()
	require.NoError(t, c.CopyContentTo(ctx, []byte("exported\n"), "/data/note.txt", 0o640))

	var buf bytes.Buffer
	require.NoError(t, c.Export(ctx, &buf))
	files := testenv.ReadTar(t, &buf)
	require.Contains(t, files, "bin/busybox")
	assert.Equal(t, byte(tar.TypeReg), files["bin/busybox"].Header.Typeflag)
	require.Contains(t, files, "bin/sh")
	assert.Equal(t, "/bin/busybox", files["bin/sh"].Header.Linkname)
	require.Contains(t, files, "data/note.txt")
	assert.Equal(t, "exported\n", string(files["data/note.txt"].Content))
	assert.Equal(t, int64(0o640), files["data/note.txt"].Header.Mode&0o777)

	errDiskFull := errors.New("disk full")
	tests := []struct {
		name  string
		dst   func(t *testing.T) io.Writer
		want  error
		wants string
	}{
		{"writer fails at once", func(*testing.T) io.Writer { return &failingWriter{err: errDiskFull} }, errDiskFull, "after 0 bytes"},
		{"writer fails midway", func(*testing.T) io.Writer { return &failingWriter{limit: 100 << 10, err: errDiskFull} }, errDiskFull, "after 102400 bytes"},
		{"file opened read-only", func(t *testing.T) io.Writer {
			p := filepath.Join(t.TempDir(), "ro.tar")
			require.NoError(t, os.WriteFile(p, nil, 0o644))
			f, err := os.Open(p)
			require.NoError(t, err)
			t.Cleanup(func() { f.Close() })
			return f
		}, syscall.EBADF, "writing the tar failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Export(ctx, tt.dst(t))
			require.ErrorIs(t, err, tt.want)
			assert.Contains(t, err.Error(), "export "+c.String())
			assert.Contains(t, err.Error(), tt.wants)
		})
	}
	// A failed export leaves nothing open: the next one works.
	require.NoError(t, c.Export(ctx, io.Discard))
}

func TestStatPath(t *testing.T) {
	h, c := sleeping(t)
	ctx := t.Context()
	require.NoError(t, c.CopyContentTo(ctx, []byte("12345"), "/data/five", 0o600))
	exec(t, c.Container, "touch", "/data/five")

	tests := []struct {
		path  string
		name  string
		check func(t *testing.T, st container.PathStat)
	}{
		{"/bin/busybox", "busybox", func(t *testing.T, st container.PathStat) {
			assert.True(t, st.Mode.IsRegular())
			assert.Equal(t, os.FileMode(0o755), st.Mode.Perm())
			assert.Greater(t, st.Size, int64(100<<10))
			assert.Empty(t, st.LinkTarget)
		}},
		{"/bin/sh", "sh", func(t *testing.T, st container.PathStat) {
			assert.Equal(t, os.ModeSymlink, st.Mode.Type())
			assert.Equal(t, "/bin/busybox", st.LinkTarget)
		}},
		{"/etc", "etc", func(t *testing.T, st container.PathStat) {
			assert.True(t, st.Mode.IsDir())
		}},
		{"/data/five", "five", func(t *testing.T, st container.PathStat) {
			assert.True(t, st.Mode.IsRegular())
			assert.Equal(t, os.FileMode(0o600), st.Mode.Perm())
			assert.Equal(t, int64(5), st.Size)
			assert.WithinDuration(t, time.Now(), st.ModTime, 5*time.Minute)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			st, err := c.StatPath(ctx, tt.path)
			require.NoError(t, err)
			assert.Equal(t, tt.name, st.Name)
			assert.False(t, st.ModTime.IsZero())
			tt.check(t, st)
		})
	}

	t.Run("missing", func(t *testing.T) {
		_, err := c.StatPath(ctx, "/no/such/file")
		require.ErrorIs(t, err, wire.ErrNotFound)
		assert.Contains(t, err.Error(), "stat /no/such/file in "+c.String()+": no such file or directory")
	})
	t.Run("relative", func(t *testing.T) {
		_, err := c.StatPath(ctx, "bin/sh")
		require.ErrorIs(t, err, container.ErrInvalidSpec)
	})
	t.Run("container gone", func(t *testing.T) {
		d := exited(t, h, "", "true")
		require.NoError(t, d.Remove(ctx))
		_, err := d.StatPath(ctx, "/bin/sh")
		require.ErrorIs(t, err, wire.ErrNotFound)
		assert.Contains(t, err.Error(), "the container does not exist")
	})
}
