package wire

import (
	"context"
	"net/http"
)

// NetworkCreate creates a network and returns its ID.
func (c *Client) NetworkCreate(ctx context.Context, n NetworkCreate) (string, error) {
	var out struct {
		ID string `json:"Id"`
	}
	err := c.DoJSON(ctx, Request{Method: http.MethodPost, Path: "/networks/create", JSON: n}, &out)
	return out.ID, err
}

// NetworkInspect returns a network.
func (c *Client) NetworkInspect(ctx context.Context, id string) (*NetworkResource, error) {
	var out NetworkResource
	if err := c.DoJSON(ctx, Request{Method: http.MethodGet, Path: "/networks/" + id}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// NetworkConnect attaches a container to a network with aliases.
func (c *Client) NetworkConnect(ctx context.Context, netID, containerID string, aliases []string) error {
	body := map[string]any{"Container": containerID, "EndpointConfig": &EndpointSettings{Aliases: aliases}}
	return c.DoJSON(ctx, Request{Method: http.MethodPost, Path: "/networks/" + netID + "/connect", JSON: body}, nil)
}

// NetworkDisconnect detaches a container from a network.
func (c *Client) NetworkDisconnect(ctx context.Context, netID, containerID string, force bool) error {
	body := map[string]any{"Container": containerID, "Force": force}
	return c.DoJSON(ctx, Request{Method: http.MethodPost, Path: "/networks/" + netID + "/disconnect", JSON: body}, nil)
}

// NetworkRemove removes a network.
func (c *Client) NetworkRemove(ctx context.Context, id string) error {
	return c.DoJSON(ctx, Request{Method: http.MethodDelete, Path: "/networks/" + id}, nil)
}

// NetworkList lists networks matching f.
func (c *Client) NetworkList(ctx context.Context, f Filters) ([]NetworkResource, error) {
	return listJSON[NetworkResource](ctx, c, Request{Method: http.MethodGet, Path: "/networks", Query: filterQuery(nil, f)})
}

// VolumeCreate creates a named volume.
func (c *Client) VolumeCreate(ctx context.Context, name string, labels map[string]string) (Volume, error) {
	var out Volume
	body := map[string]any{"Name": name, "Labels": labels}
	err := c.DoJSON(ctx, Request{Method: http.MethodPost, Path: "/volumes/create", JSON: body}, &out)
	return out, err
}

// VolumeRemove removes a named volume.
func (c *Client) VolumeRemove(ctx context.Context, name string, force bool) error {
	var q map[string][]string
	if force {
		q = map[string][]string{"force": {"1"}}
	}
	return c.DoJSON(ctx, Request{Method: http.MethodDelete, Path: "/volumes/" + name, Query: q}, nil)
}

// VolumeList lists volumes matching f.
func (c *Client) VolumeList(ctx context.Context, f Filters) ([]Volume, error) {
	var out struct {
		Volumes []Volume
	}
	err := c.doJSON(ctx, Request{Method: http.MethodGet, Path: "/volumes", Query: filterQuery(nil, f)}, listAnswer, &out)
	return out.Volumes, err
}
