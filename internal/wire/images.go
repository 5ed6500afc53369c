package wire

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
)

func itoa(i int) string { return strconv.Itoa(i) }

// authHeader sets X-Registry-Auth when auth (already encoded) is not empty.
func authHeader(auth string) http.Header {
	if auth == "" {
		return nil
	}
	return http.Header{"X-Registry-Auth": {auth}}
}

// Stream sends r and decodes the JSON message stream of its answer, calling
// fn for each message. An error inside the stream is returned as a
// *StreamError.
func (c *Client) Stream(ctx context.Context, r Request, fn func(JSONMessage) error) error {
	r.Long = true
	resp, err := c.Do(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := DecodeStream(resp.Body, fn); err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		var tl *AnswerTooLargeError
		if errors.As(err, &tl) {
			tl.Method, tl.Path = r.Method, r.Path
		}
		return err
	}
	return nil
}

// ImagePull pulls image (name[:tag] or name@digest) with the encoded
// X-Registry-Auth value auth (may be empty).
func (c *Client) ImagePull(ctx context.Context, image, tag, platform, auth string, fn func(JSONMessage) error) error {
	q := url.Values{"fromImage": {image}}
	setNonEmpty(q, "tag", tag)
	setNonEmpty(q, "platform", platform)
	return c.Stream(ctx, Request{Method: http.MethodPost, Path: "/images/create", Query: q, Header: authHeader(auth)}, fn)
}

// ImagePush pushes name:tag with the encoded X-Registry-Auth value auth.
func (c *Client) ImagePush(ctx context.Context, name, tag, auth string, fn func(JSONMessage) error) error {
	var q url.Values
	if tag != "" {
		q = url.Values{"tag": {tag}}
	}
	if auth == "" {
		// The engine refuses a push without the header; an empty
		// credential means anonymous.
		auth = "e30="
	}
	return c.Stream(ctx, Request{Method: http.MethodPost, Path: "/images/" + name + "/push", Query: q, Header: authHeader(auth)}, fn)
}

// ImageInspect returns an image's metadata.
func (c *Client) ImageInspect(ctx context.Context, ref string) (*ImageInspect, error) {
	var out ImageInspect
	if err := c.DoJSON(ctx, Request{Method: http.MethodGet, Path: "/images/" + ref + "/json"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ImageTag tags src as repo:tag.
func (c *Client) ImageTag(ctx context.Context, src, repo, tag string) error {
	q := url.Values{"repo": {repo}}
	setNonEmpty(q, "tag", tag)
	return c.DoJSON(ctx, Request{Method: http.MethodPost, Path: "/images/" + src + "/tag", Query: q}, nil)
}

// ImageRemove removes an image (or one of its tags).
func (c *Client) ImageRemove(ctx context.Context, ref string, force, noPrune bool) error {
	q := url.Values{}
	if force {
		q.Set("force", "1")
	}
	if noPrune {
		q.Set("noprune", "1")
	}
	return c.DoJSON(ctx, Request{Method: http.MethodDelete, Path: "/images/" + ref, Query: q}, nil)
}

// ImageList lists images matching f.
func (c *Client) ImageList(ctx context.Context, f Filters) ([]ImageSummary, error) {
	return listJSON[ImageSummary](ctx, c, Request{Method: http.MethodGet, Path: "/images/json", Query: filterQuery(nil, f)})
}

// ImageLoad loads a `docker save` tarball.
func (c *Client) ImageLoad(ctx context.Context, tarball io.Reader, fn func(JSONMessage) error) error {
	q := url.Values{"quiet": {"1"}}
	h := http.Header{"Content-Type": {"application/x-tar"}}
	return c.Stream(ctx, Request{Method: http.MethodPost, Path: "/images/load", Query: q, Header: h, Body: tarball}, fn)
}

// ImageSave streams a `docker save` tarball of the given images.
func (c *Client) ImageSave(ctx context.Context, refs ...string) (io.ReadCloser, error) {
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/images/get", Query: url.Values{"names": refs}, Long: true})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// ImageBuild sends a build context to the classic builder (POST /build).
// configHeader is the encoded X-Registry-Config (may be empty). fn receives
// the progress stream; the built image ID arrives in an aux message.
func (c *Client) ImageBuild(ctx context.Context, buildContext io.Reader, q url.Values, configHeader string, fn func(JSONMessage) error) error {
	h := http.Header{"Content-Type": {"application/x-tar"}}
	if configHeader != "" {
		h.Set("X-Registry-Config", configHeader)
	}
	return c.Stream(ctx, Request{Method: http.MethodPost, Path: "/build", Query: q, Header: h, Body: buildContext}, fn)
}

// IsBuildCacheRace reports whether err, a classic build's failure, is the
// builder losing a race rather than a fault of the build: to find a cached
// step dockerd lists the parent image's children and reads each, and fails
// the build when one was removed in between (by anyone: another test's
// cleanup, docker rmi), or when the cached step it found is removed before
// it is used (No such image); Podman's buildah fails its cache check the
// same way. The same build run again is expected to work.
func IsBuildCacheRace(err error) bool {
	return err != nil && buildCacheRace.MatchString(err.Error())
}

var buildCacheRace = regexp.MustCompile(`unable to find image "sha256:[0-9a-f]{64}"|No such image: sha256:[0-9a-f]{64}|checking if cached image exists from a previous build: .*not known`)

// BuildCachePrune removes builder cache.
func (c *Client) BuildCachePrune(ctx context.Context, all bool, f Filters) error {
	q := filterQuery(nil, f)
	if all {
		q.Set("all", "1")
	}
	return c.DoJSON(ctx, Request{Method: http.MethodPost, Path: "/build/prune", Query: q, Long: true}, nil)
}

// Auth checks credentials against a registry through the engine (POST
// /auth). auth is the AuthConfig value to send as JSON.
func (c *Client) Auth(ctx context.Context, auth any) (AuthResponse, error) {
	var out AuthResponse
	// The engine asks the registry before it answers.
	err := c.DoJSON(ctx, Request{Method: http.MethodPost, Path: "/auth", JSON: auth, Long: true}, &out)
	return out, err
}

// DecodeAux decodes the aux payload of a stream message into v.
func DecodeAux(m JSONMessage, v any) error { return json.Unmarshal(m.Aux, v) }
