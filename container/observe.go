package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/berth-go/berth/internal/wire"
)

// ErrNotRunning reports a call that needs a running container.
var ErrNotRunning = errors.New("container is not running")

// Processes is the process table of a container as ps prints it.
type Processes struct {
	Titles []string   // column headers, e.g. UID, PID, PPID, C, STIME, TTY, TIME, CMD
	Rows   [][]string // one row per process, in the order of Titles
}

// Column returns one column of every row by its title ("PID", "CMD"), or
// nil when ps printed no such column. CMD and COMMAND find the same column:
// ps heads the command line one way or the other depending on its arguments
// (ps -ef says CMD, ps aux COMMAND), and Podman always says COMMAND.
func (p Processes) Column(title string) []string {
	if col := p.column(title); col != nil {
		return col
	}
	switch title {
	case "CMD":
		return p.column("COMMAND")
	case "COMMAND":
		return p.column("CMD")
	}
	return nil
}

func (p Processes) column(title string) []string {
	for i, t := range p.Titles {
		if t != title {
			continue
		}
		out := make([]string, 0, len(p.Rows))
		for _, r := range p.Rows {
			if i < len(r) {
				out = append(out, r[i])
			} else {
				out = append(out, "")
			}
		}
		return out
	}
	return nil
}

// Top lists the processes of the running container. psArgs are the
// arguments the engine passes to ps on its host ("" means -ef). On Podman,
// "" lists USER, PID, PPID, %CPU, ELAPSED, TTY, TIME and COMMAND, read by
// Podman itself; other arguments run the ps inside the container there, so
// the image must have one.
func (c *Container) Top(ctx context.Context, psArgs string) (Processes, error) {
	args := psArgs
	if args == "" && c.client.IsPodman(ctx) {
		// Podman runs "-ef" through the ps inside the container (a scratch
		// image has none), but reads its own descriptors from /proc.
		args = podmanDefaultPs
	}
	resp, err := c.client.ContainerTop(ctx, c.id, args)
	if err != nil {
		if errors.Is(err, io.EOF) {
			// Podman answers an empty 200 for a stopped container and for
			// arguments ps refused.
			if err := c.stoppedError(ctx, "top"); err != nil {
				return Processes{}, err
			}
			return Processes{}, fmt.Errorf("top of %s: ps printed no process table: check the ps arguments %q (%w)", c, psArgs, err)
		}
		return Processes{}, c.notRunning("top", err)
	}
	return splitPsTable(Processes{Titles: resp.Titles, Rows: resp.Processes}), nil
}

// podmanDefaultPs are Podman's own ps descriptors closest to ps -ef.
const podmanDefaultPs = "user,pid,ppid,pcpu,etime,tty,time,args"

// splitPsTable splits a table whose header and rows each came as one
// unsplit line (Podman passes the output of the ps inside the container on
// as it is). The last column takes the rest of each line, as the command
// line may hold spaces.
func splitPsTable(p Processes) Processes {
	if len(p.Titles) != 1 {
		return p
	}
	titles := strings.Fields(p.Titles[0])
	if len(titles) < 2 {
		return p
	}
	rows := make([][]string, 0, len(p.Rows))
	for _, r := range p.Rows {
		if len(r) != 1 {
			return p
		}
		rows = append(rows, fieldsN(r[0], len(titles)))
	}
	return Processes{Titles: titles, Rows: rows}
}

// fieldsN splits s at runs of blanks into at most n fields; the last keeps
// the rest of s.
func fieldsN(s string, n int) []string {
	const blanks = " \t"
	var out []string
	s = strings.Trim(s, blanks)
	for len(out) < n-1 && s != "" {
		i := strings.IndexAny(s, blanks)
		if i < 0 {
			break
		}
		out = append(out, s[:i])
		s = strings.TrimLeft(s[i:], blanks)
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

// stoppedError is ErrNotRunning for op when the container is not running,
// nil when it runs or its state cannot be read: it explains the empty
// answer Podman gives top and stats of a stopped container.
func (c *Container) stoppedError(ctx context.Context, op string) error {
	if st, err := c.State(ctx); err == nil && !st.Running {
		return fmt.Errorf("%s of %s: %w; start it first", op, c, ErrNotRunning)
	}
	return nil
}

// notRunning turns the engine's 409 "is not running" into ErrNotRunning.
func (c *Container) notRunning(op string, err error) error {
	var ae *wire.APIError
	if errors.As(err, &ae) && ae.StatusCode == 409 && strings.Contains(ae.Message, "is not running") {
		return fmt.Errorf("%s of %s: %w; start it first (engine: %s)", op, c, ErrNotRunning, ae.Message)
	}
	return fmt.Errorf("%s of %s: %w", op, c, err)
}

// Stats is one resource-usage sample, computed the way `docker stats`
// shows it.
type Stats struct {
	Read time.Time // when the engine took the sample
	// CPUPercent is the share of one CPU used since the previous sample:
	// 100 is one full CPU, OnlineCPUs×100 all of them.
	CPUPercent float64
	OnlineCPUs int
	// MemoryUsage is the memory in use without the reclaimable page cache
	// (inactive files), as docker stats reports it.
	MemoryUsage   uint64
	MemoryLimit   uint64 // the container's limit, or the host's memory
	MemoryPercent float64
	NetworkRx     uint64 // bytes received over all interfaces
	NetworkTx     uint64 // bytes sent over all interfaces
	BlockRead     uint64 // bytes read from block devices
	BlockWrite    uint64 // bytes written to block devices
	Pids          uint64 // processes and threads
	PidsLimit     uint64 // 0 when unlimited
}

// String formats the sample like a row of docker stats.
func (s Stats) String() string {
	return fmt.Sprintf("cpu %.2f%% mem %s / %s (%.2f%%) net %s / %s block %s / %s pids %d",
		s.CPUPercent, humanBytes(s.MemoryUsage), humanBytes(s.MemoryLimit), s.MemoryPercent,
		humanBytes(s.NetworkRx), humanBytes(s.NetworkTx), humanBytes(s.BlockRead), humanBytes(s.BlockWrite), s.Pids)
}

func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + "B"
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.2f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Stats takes one sample of the running container's resource usage. The
// engine measures CPU over about a second, so the call takes that long.
func (c *Container) Stats(ctx context.Context) (Stats, error) {
	first, err := c.statsSample(ctx)
	if err != nil {
		return Stats{}, err
	}
	if first.PreCPUStats.SystemUsage != 0 {
		return computeStats(first, nil), nil
	}
	// An engine that answers at once gives no earlier CPU reading: take a
	// second sample a moment later and measure against the first.
	select {
	case <-ctx.Done():
		return Stats{}, fmt.Errorf("stats of %s: %w", c, context.Cause(ctx))
	case <-time.After(500 * time.Millisecond):
	}
	second, err := c.statsSample(ctx)
	if err != nil {
		return Stats{}, err
	}
	return computeStats(second, &first.CPUStats), nil
}

func (c *Container) statsSample(ctx context.Context) (wire.StatsJSON, error) {
	body, err := c.client.ContainerStats(ctx, c.id, false)
	if err != nil {
		return wire.StatsJSON{}, c.notRunning("stats", err)
	}
	defer body.Close()
	var s wire.StatsJSON
	if err := json.NewDecoder(io.LimitReader(body, maxStatsSample)).Decode(&s); err != nil {
		// Podman answers a stopped container with an empty body.
		if errors.Is(err, io.EOF) {
			if err := c.stoppedError(ctx, "stats"); err != nil {
				return wire.StatsJSON{}, err
			}
		}
		return wire.StatsJSON{}, fmt.Errorf("stats of %s: decode the engine's answer: %w", c, err)
	}
	if sampleTime(s.Read).IsZero() {
		// A stopped container answers with an empty sample.
		return wire.StatsJSON{}, fmt.Errorf("stats of %s: %w; start it first", c, ErrNotRunning)
	}
	return s, nil
}

// maxStatsSample bounds one JSON sample of the stats endpoint.
const maxStatsSample = 4 << 20

// StreamStats calls fn with a sample about every second until ctx ends
// (then it returns nil) or the container stops (nil as well). fn runs on
// the calling goroutine.
func (c *Container) StreamStats(ctx context.Context, fn func(Stats)) error {
	if c.client.IsPodman(ctx) {
		return c.pollStats(ctx, fn)
	}
	body, err := c.client.ContainerStats(ctx, c.id, true)
	if err != nil {
		return c.notRunning("stream stats", err)
	}
	defer body.Close()
	var prev *wire.CPUStats
	err = decodeStats(body, func(s wire.StatsJSON) bool {
		if sampleTime(s.Read).IsZero() {
			return false // the container stopped: the engine sends empty samples
		}
		fn(computeStats(s, prev))
		cpu := s.CPUStats
		prev = &cpu
		return true
	})
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stream stats of %s: %w", c, err)
	}
	return nil
}

// statsPeriod is how often StreamStats samples, as dockerd's stream does.
const statsPeriod = time.Second

// pollStats serves StreamStats on Podman, whose stream sends a sample only
// every five seconds: it takes single samples once a second instead.
func (c *Container) pollStats(ctx context.Context, fn func(Stats)) error {
	var prev *wire.CPUStats
	for {
		next := time.Now().Add(statsPeriod)
		s, err := c.statsSample(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrNotRunning):
			return nil // stopped, as dockerd's stream ends then
		case err != nil:
			return fmt.Errorf("stream %w", err)
		}
		fn(computeStats(s, prev))
		cpu := s.CPUStats
		prev = &cpu
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(next)):
		}
	}
}

// decodeStats reads a stream of JSON stats samples and calls fn for each
// until fn returns false. It returns nil at a clean end of the stream.
func decodeStats(r io.Reader, fn func(wire.StatsJSON) bool) error {
	lr := &io.LimitedReader{R: r}
	dec := json.NewDecoder(lr)
	for {
		lr.N = maxStatsSample
		var s wire.StatsJSON
		if err := dec.Decode(&s); err != nil {
			if lr.N <= 0 {
				return fmt.Errorf("a stats sample is larger than %d bytes", maxStatsSample)
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("decode stats sample: %w", err)
		}
		if !fn(s) {
			return nil
		}
	}
}

func sampleTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}

// computeStats derives docker-stats numbers from a raw sample. prev is the
// CPU reading of the previous sample, used when the sample carries none.
func computeStats(s wire.StatsJSON, prev *wire.CPUStats) Stats {
	out := Stats{Read: sampleTime(s.Read), Pids: s.PidsStats.Current, PidsLimit: s.PidsStats.Limit}
	pre := s.PreCPUStats
	if pre.SystemUsage == 0 && prev != nil {
		pre = *prev
	}
	online := int(s.CPUStats.OnlineCPUs)
	if online == 0 {
		online = len(s.CPUStats.CPUUsage.PercpuUsage)
	}
	out.OnlineCPUs = online
	if pre.SystemUsage != 0 && s.CPUStats.SystemUsage > pre.SystemUsage && s.CPUStats.CPUUsage.TotalUsage > pre.CPUUsage.TotalUsage {
		cpuDelta := float64(s.CPUStats.CPUUsage.TotalUsage - pre.CPUUsage.TotalUsage)
		sysDelta := float64(s.CPUStats.SystemUsage - pre.SystemUsage)
		out.CPUPercent = cpuDelta / sysDelta * float64(online) * 100
	}

	mem := s.MemoryStats
	out.MemoryUsage = mem.Usage
	// cgroup v1 reports total_inactive_file, v2 inactive_file: page cache
	// the kernel can drop, which docker stats leaves out.
	if v, ok := mem.Stats["total_inactive_file"]; ok && v < mem.Usage {
		out.MemoryUsage = mem.Usage - v
	} else if v, ok := mem.Stats["inactive_file"]; ok && v < mem.Usage {
		out.MemoryUsage = mem.Usage - v
	}
	out.MemoryLimit = mem.Limit
	if mem.Limit != 0 {
		out.MemoryPercent = float64(out.MemoryUsage) / float64(mem.Limit) * 100
	}

	for _, n := range s.Networks {
		out.NetworkRx += n.RxBytes
		out.NetworkTx += n.TxBytes
	}
	for _, e := range s.BlkioStats.IoServiceBytesRecursive {
		switch strings.ToLower(e.Op) {
		case "read":
			out.BlockRead += e.Value
		case "write":
			out.BlockWrite += e.Value
		}
	}
	if math.IsNaN(out.CPUPercent) || math.IsInf(out.CPUPercent, 0) {
		out.CPUPercent = 0
	}
	return out
}

// ChangeKind says how a path differs from the container's image.
type ChangeKind int

// Kinds of filesystem changes, with the engine's numbers.
const (
	Modified ChangeKind = 0
	Added    ChangeKind = 1
	Deleted  ChangeKind = 2
)

// String returns "modified", "added" or "deleted".
func (k ChangeKind) String() string {
	switch k {
	case Modified:
		return "modified"
	case Added:
		return "added"
	case Deleted:
		return "deleted"
	}
	return "ChangeKind(" + strconv.Itoa(int(k)) + ")"
}

// Change is one path of the container's filesystem that differs from its
// image.
type Change struct {
	Path string
	Kind ChangeKind
}

// String formats the change like docker diff: "A /path".
func (c Change) String() string {
	switch c.Kind {
	case Modified:
		return "C " + c.Path
	case Added:
		return "A " + c.Path
	case Deleted:
		return "D " + c.Path
	}
	return c.Kind.String() + " " + c.Path
}

// Changes lists the paths of the container's filesystem that were added,
// modified or deleted since it was created from its image. Mounts are not
// part of it.
func (c *Container) Changes(ctx context.Context) ([]Change, error) {
	items, err := c.client.ContainerChanges(ctx, c.id)
	if err != nil {
		return nil, fmt.Errorf("changes of %s: %w", c, err)
	}
	out := make([]Change, 0, len(items))
	for _, it := range items {
		out = append(out, Change{Path: it.Path, Kind: ChangeKind(it.Kind)})
	}
	if c.client.IsPodman(ctx) {
		out = withoutRuntimeEtc(out)
	}
	return out, nil
}

// withoutRuntimeEtc drops the "C /etc" of every Podman container: Podman
// makes the mount points of /etc/hosts, /etc/hostname and /etc/resolv.conf
// in the container's own layer, where dockerd uses a hidden init layer. It
// stays when something inside /etc changed.
func withoutRuntimeEtc(changes []Change) []Change {
	at := -1
	for i, ch := range changes {
		switch {
		case ch.Path == "/etc" && ch.Kind == Modified:
			at = i
		case strings.HasPrefix(ch.Path, "/etc/"):
			return changes
		}
	}
	if at < 0 {
		return changes
	}
	return append(changes[:at:at], changes[at+1:]...)
}

// Export writes the container's whole filesystem to w as a tar stream.
// Mounted volumes are not part of it. When w fails, the stream from the
// engine is closed and the write error returned.
func (c *Container) Export(ctx context.Context, w io.Writer) error {
	body, err := c.client.ContainerExport(ctx, c.id)
	if err != nil {
		return fmt.Errorf("export %s: %w", c, err)
	}
	defer body.Close()
	cw := &countingWriter{w: w}
	if _, err := io.Copy(cw, body); err != nil {
		if cw.err != nil {
			return fmt.Errorf("export %s: writing the tar failed after %d bytes (is the destination writable and not full?): %w", c, cw.n, cw.err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("export %s: %w", c, context.Cause(ctx))
		}
		return fmt.Errorf("export %s: reading from the engine failed after %d bytes: %w", c, cw.n, err)
	}
	return nil
}

// countingWriter counts written bytes and remembers the writer's own error,
// so Export can tell a failing destination from a failing engine.
type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (cw *countingWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.n += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		cw.err = err
	}
	return n, err
}

// PathStat describes one path inside a container.
type PathStat struct {
	Name       string // base name
	Size       int64
	Mode       os.FileMode // type bits and permissions, as os.Lstat gives them
	ModTime    time.Time
	LinkTarget string // for a symlink, what it points to
}

// StatPath stats an absolute path inside the container without following
// a final symlink. A missing path is an error matching engine.ErrNotFound.
func (c *Container) StatPath(ctx context.Context, p string) (PathStat, error) {
	if !strings.HasPrefix(p, "/") {
		return PathStat{}, &SpecError{Field: "StatPath", Value: p, Hint: "give an absolute path inside the container"}
	}
	st, err := c.client.ContainerStatPath(ctx, c.id, p)
	if err != nil {
		if errors.Is(err, wire.ErrNotFound) {
			// HEAD answers carry no message: say which side is missing.
			if _, ierr := c.client.ContainerInspect(ctx, c.id); errors.Is(ierr, wire.ErrNotFound) {
				return PathStat{}, fmt.Errorf("stat %s in %s: the container does not exist: %w", p, c, err)
			}
			return PathStat{}, fmt.Errorf("stat %s in %s: no such file or directory: %w", p, c, err)
		}
		return PathStat{}, fmt.Errorf("stat %s in %s: %w", p, c, err)
	}
	// The name is the requested path's, and only a symlink has a target:
	// Podman answers with the name and path the symlink resolves to.
	out := PathStat{Name: path.Base(p), Size: st.Size, Mode: os.FileMode(st.Mode)}
	if out.Mode&os.ModeSymlink != 0 {
		out.LinkTarget = st.LinkTarget
	}
	if t, err := time.Parse(time.RFC3339Nano, st.Mtime); err == nil {
		out.ModTime = t
	}
	return out, nil
}
