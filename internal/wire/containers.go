package wire

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ContainerCreate creates a container; name may be empty. platform may be
// empty.
func (c *Client) ContainerCreate(ctx context.Context, name string, cfg *ContainerConfig, platform string) (CreateResponse, error) {
	q := url.Values{}
	setNonEmpty(q, "name", name)
	setNonEmpty(q, "platform", platform)
	var body any = cfg
	if cfg != nil && cfg.Edit != nil {
		b, err := json.Marshal(cfg)
		if err != nil {
			return CreateResponse{}, err
		}
		m := map[string]any{}
		if err := json.Unmarshal(b, &m); err != nil {
			return CreateResponse{}, err
		}
		if err := cfg.Edit(m); err != nil {
			return CreateResponse{}, err
		}
		body = m
	}
	var out CreateResponse
	err := c.DoJSON(ctx, Request{Method: http.MethodPost, Path: "/containers/create", Query: q, JSON: body}, &out)
	return out, err
}

func (c *Client) containerPost(ctx context.Context, id, action string, q url.Values) error {
	return c.DoJSON(ctx, Request{Method: http.MethodPost, Path: "/containers/" + id + "/" + action, Query: q}, nil)
}

// ContainerStart starts a created or stopped container.
func (c *Client) ContainerStart(ctx context.Context, id string) error {
	return c.containerPost(ctx, id, "start", nil)
}

// ContainerStartCheckpoint starts a container from a checkpoint.
func (c *Client) ContainerStartCheckpoint(ctx context.Context, id, checkpoint string) error {
	return c.containerPost(ctx, id, "start", url.Values{"checkpoint": {checkpoint}})
}

func timeoutQuery(timeout *int) url.Values {
	if timeout == nil {
		return nil
	}
	return url.Values{"t": {strconv.Itoa(*timeout)}}
}

// ContainerStop stops a container, waiting timeout seconds (nil: the
// container's default) before killing it.
func (c *Client) ContainerStop(ctx context.Context, id string, timeout *int) error {
	return c.DoJSON(ctx, Request{Method: http.MethodPost, Path: "/containers/" + id + "/stop", Query: timeoutQuery(timeout), Long: true}, nil)
}

// ContainerRestart restarts a container.
func (c *Client) ContainerRestart(ctx context.Context, id string, timeout *int) error {
	return c.DoJSON(ctx, Request{Method: http.MethodPost, Path: "/containers/" + id + "/restart", Query: timeoutQuery(timeout), Long: true}, nil)
}

// ContainerKill sends signal (empty: SIGKILL) to the container.
func (c *Client) ContainerKill(ctx context.Context, id, signal string) error {
	var q url.Values
	if signal != "" {
		q = url.Values{"signal": {signal}}
	}
	return c.containerPost(ctx, id, "kill", q)
}

// ContainerPause freezes the container's processes.
func (c *Client) ContainerPause(ctx context.Context, id string) error {
	return c.containerPost(ctx, id, "pause", nil)
}

// ContainerUnpause thaws the container's processes.
func (c *Client) ContainerUnpause(ctx context.Context, id string) error {
	return c.containerPost(ctx, id, "unpause", nil)
}

// ContainerRename renames a container.
func (c *Client) ContainerRename(ctx context.Context, id, name string) error {
	return c.containerPost(ctx, id, "rename", url.Values{"name": {name}})
}

// ContainerResize sets the TTY size of a container.
func (c *Client) ContainerResize(ctx context.Context, id string, height, width int) error {
	return c.containerPost(ctx, id, "resize", url.Values{"h": {strconv.Itoa(height)}, "w": {strconv.Itoa(width)}})
}

// ContainerUpdate changes a running container's resource limits.
func (c *Client) ContainerUpdate(ctx context.Context, id string, u UpdateConfig) error {
	return c.DoJSON(ctx, Request{Method: http.MethodPost, Path: "/containers/" + id + "/update", JSON: u}, nil)
}

// ContainerWait blocks until the container meets condition ("not-running",
// "next-exit", "removed"; empty is not-running) and returns its exit code.
func (c *Client) ContainerWait(ctx context.Context, id, condition string) (WaitResponse, error) {
	var q url.Values
	if condition != "" {
		q = url.Values{"condition": {condition}}
	}
	var out WaitResponse
	err := c.DoJSON(ctx, Request{Method: http.MethodPost, Path: "/containers/" + id + "/wait", Query: q, Long: true}, &out)
	return out, err
}

// ContainerInspect returns a container's configuration and state.
func (c *Client) ContainerInspect(ctx context.Context, id string) (*ContainerJSON, error) {
	var out ContainerJSON
	if err := c.DoJSON(ctx, Request{Method: http.MethodGet, Path: "/containers/" + id + "/json"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RemoveOptions control ContainerRemove.
type RemoveOptions struct {
	Force   bool
	Volumes bool
}

// ContainerRemove removes a container.
func (c *Client) ContainerRemove(ctx context.Context, id string, o RemoveOptions) error {
	q := url.Values{}
	if o.Force {
		q.Set("force", "1")
	}
	if o.Volumes {
		q.Set("v", "1")
	}
	return c.DoJSON(ctx, Request{Method: http.MethodDelete, Path: "/containers/" + id, Query: q}, nil)
}

// ContainerList lists containers; all includes stopped ones.
func (c *Client) ContainerList(ctx context.Context, all bool, f Filters) ([]ContainerSummary, error) {
	q := filterQuery(nil, f)
	if all {
		q.Set("all", "1")
	}
	return listJSON[ContainerSummary](ctx, c, Request{Method: http.MethodGet, Path: "/containers/json", Query: q})
}

// LogsOptions select what ContainerLogs returns.
type LogsOptions struct {
	Stdout, Stderr bool
	Follow         bool
	Timestamps     bool
	Since          string
	Until          string
	Tail           string // "all" or a number
}

// ContainerLogs returns the raw log stream: multiplexed unless the
// container has a TTY (then plain). Use Demux to split it.
func (c *Client) ContainerLogs(ctx context.Context, id string, o LogsOptions) (io.ReadCloser, error) {
	q := url.Values{}
	setBool := func(k string, v bool) {
		if v {
			q.Set(k, "1")
		}
	}
	setBool("stdout", o.Stdout)
	setBool("stderr", o.Stderr)
	setBool("follow", o.Follow)
	setBool("timestamps", o.Timestamps)
	setNonEmpty(q, "since", o.Since)
	setNonEmpty(q, "until", o.Until)
	setNonEmpty(q, "tail", o.Tail)
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/containers/" + id + "/logs", Query: q, Long: o.Follow})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// AttachOptions select the streams of ContainerAttach.
type AttachOptions struct {
	Stream, Logs          bool
	Stdin, Stdout, Stderr bool
	DetachKeys            string
}

// ContainerAttach attaches to a container over a hijacked connection.
func (c *Client) ContainerAttach(ctx context.Context, id string, o AttachOptions) (*HijackedConn, error) {
	// Every flag is sent: Podman takes a missing stream as true.
	q := url.Values{}
	for k, v := range map[string]bool{"stream": o.Stream, "logs": o.Logs, "stdin": o.Stdin, "stdout": o.Stdout, "stderr": o.Stderr} {
		q.Set(k, "0")
		if v {
			q.Set(k, "1")
		}
	}
	setNonEmpty(q, "detachKeys", o.DetachKeys)
	return c.Hijack(ctx, Request{Method: http.MethodPost, Path: "/containers/" + id + "/attach", Query: q}, "tcp")
}

// ContainerTop lists the processes running in a container.
func (c *Client) ContainerTop(ctx context.Context, id, psArgs string) (TopResponse, error) {
	var q url.Values
	if psArgs != "" {
		q = url.Values{"ps_args": {psArgs}}
	}
	var out TopResponse
	err := c.doJSON(ctx, Request{Method: http.MethodGet, Path: "/containers/" + id + "/top", Query: q}, listAnswer, &out)
	return out, err
}

// ContainerStats returns one stats sample (stream false) or a stream of
// JSON samples, one a second, until ctx ends (stream true).
func (c *Client) ContainerStats(ctx context.Context, id string, stream bool) (io.ReadCloser, error) {
	q := url.Values{"stream": {strconv.FormatBool(stream)}}
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/containers/" + id + "/stats", Query: q, Long: stream})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// ContainerChanges lists the filesystem changes of a container.
func (c *Client) ContainerChanges(ctx context.Context, id string) ([]ChangeItem, error) {
	return listJSON[ChangeItem](ctx, c, Request{Method: http.MethodGet, Path: "/containers/" + id + "/changes"})
}

// ContainerExport streams the container's filesystem as a tar.
func (c *Client) ContainerExport(ctx context.Context, id string) (io.ReadCloser, error) {
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/containers/" + id + "/export", Long: true})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

func decodePathStat(h http.Header) (PathStat, error) {
	var st PathStat
	v := h.Get("X-Docker-Container-Path-Stat")
	if v == "" {
		return st, nil
	}
	data, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return st, err
	}
	err = json.Unmarshal(data, &st)
	return st, err
}

// CopyFromContainer returns a tar stream of path inside the container and
// the path's stat.
func (c *Client) CopyFromContainer(ctx context.Context, id, path string) (io.ReadCloser, PathStat, error) {
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/containers/" + id + "/archive", Query: url.Values{"path": {path}}})
	if err != nil {
		return nil, PathStat{}, err
	}
	st, _ := decodePathStat(resp.Header)
	return resp.Body, st, nil
}

// ContainerStatPath stats path inside the container (HEAD archive).
func (c *Client) ContainerStatPath(ctx context.Context, id, path string) (PathStat, error) {
	resp, err := c.Do(ctx, Request{Method: http.MethodHead, Path: "/containers/" + id + "/archive", Query: url.Values{"path": {path}}})
	if err != nil {
		return PathStat{}, err
	}
	resp.Body.Close()
	return decodePathStat(resp.Header)
}

// CopyToContainer extracts the tar stream content into dir inside the
// container. dir must exist.
func (c *Client) CopyToContainer(ctx context.Context, id, dir string, content io.Reader) error {
	q := url.Values{"path": {dir}, "noOverwriteDirNonDir": {"true"}}
	h := http.Header{"Content-Type": {"application/x-tar"}}
	return c.DoJSON(ctx, Request{Method: http.MethodPut, Path: "/containers/" + id + "/archive", Query: q, Header: h, Body: content}, nil)
}

// CommitOptions control ContainerCommit.
type CommitOptions struct {
	Repo, Tag string
	Comment   string
	Pause     bool
	Changes   []string
	Config    *ContainerConfig
}

// ContainerCommit makes an image from a container and returns its ID.
func (c *Client) ContainerCommit(ctx context.Context, id string, o CommitOptions) (string, error) {
	q := url.Values{"container": {id}, "pause": {strconv.FormatBool(o.Pause)}}
	setNonEmpty(q, "repo", o.Repo)
	setNonEmpty(q, "tag", o.Tag)
	setNonEmpty(q, "comment", o.Comment)
	for _, ch := range o.Changes {
		q.Add("changes", ch)
	}
	var out struct {
		ID string `json:"Id"`
	}
	// Always a body: Podman fails to decode an empty one.
	r := Request{Method: http.MethodPost, Path: "/commit", Query: q, JSON: &ContainerConfig{}, Long: true}
	if o.Config != nil {
		r.JSON = o.Config
	}
	err := c.DoJSON(ctx, r, &out)
	// Podman answers with the bare hex ID.
	if len(out.ID) == 64 && !strings.Contains(out.ID, ":") {
		out.ID = "sha256:" + out.ID
	}
	return out.ID, err
}

// ContainersPrune removes stopped containers matching f and returns their
// IDs.
func (c *Client) ContainersPrune(ctx context.Context, f Filters) ([]string, error) {
	var out struct {
		ContainersDeleted []string
	}
	err := c.doJSON(ctx, Request{Method: http.MethodPost, Path: "/containers/prune", Query: filterQuery(nil, f), Long: true}, listAnswer, &out)
	return out.ContainersDeleted, err
}

// Checkpoint is one checkpoint of a container.
type Checkpoint struct {
	Name string
}

// CheckpointCreate checkpoints a container (needs an experimental engine
// with CRIU).
func (c *Client) CheckpointCreate(ctx context.Context, id, name string, exit bool) error {
	body := map[string]any{"CheckpointID": name, "Exit": exit}
	return c.DoJSON(ctx, Request{Method: http.MethodPost, Path: "/containers/" + id + "/checkpoints", JSON: body, Long: true}, nil)
}

// CheckpointList lists a container's checkpoints.
func (c *Client) CheckpointList(ctx context.Context, id string) ([]Checkpoint, error) {
	return listJSON[Checkpoint](ctx, c, Request{Method: http.MethodGet, Path: "/containers/" + id + "/checkpoints"})
}

// CheckpointDelete deletes a checkpoint.
func (c *Client) CheckpointDelete(ctx context.Context, id, name string) error {
	return c.DoJSON(ctx, Request{Method: http.MethodDelete, Path: "/containers/" + id + "/checkpoints/" + url.PathEscape(name)}, nil)
}
