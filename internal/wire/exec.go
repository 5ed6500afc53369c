package wire

import (
	"context"
	"net/http"
)

// ExecCreate prepares cmd to run in container id and returns the exec ID.
func (c *Client) ExecCreate(ctx context.Context, id string, cfg ExecConfig) (string, error) {
	var out struct {
		ID string `json:"Id"`
	}
	err := c.DoJSON(ctx, Request{Method: http.MethodPost, Path: "/containers/" + id + "/exec", JSON: cfg}, &out)
	return out.ID, err
}

// ExecStart starts an exec over a hijacked connection carrying stdin and
// the (multiplexed unless tty) output.
func (c *Client) ExecStart(ctx context.Context, execID string, tty bool) (*HijackedConn, error) {
	body := map[string]bool{"Detach": false, "Tty": tty}
	return c.Hijack(ctx, Request{Method: http.MethodPost, Path: "/exec/" + execID + "/start", JSON: body}, "tcp")
}

// ExecInspect reports an exec's state and exit code.
func (c *Client) ExecInspect(ctx context.Context, execID string) (ExecInspect, error) {
	var out ExecInspect
	err := c.DoJSON(ctx, Request{Method: http.MethodGet, Path: "/exec/" + execID + "/json"}, &out)
	return out, err
}

// ExecResize sets the TTY size of an exec.
func (c *Client) ExecResize(ctx context.Context, execID string, height, width int) error {
	return c.DoJSON(ctx, Request{Method: http.MethodPost, Path: "/exec/" + execID + "/resize", Query: map[string][]string{"h": {itoa(height)}, "w": {itoa(width)}}}, nil)
}
