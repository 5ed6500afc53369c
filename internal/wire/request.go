package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// A call to the engine: the Request, its sending (Do) and the decoding of
// its answer (DoJSON, listJSON), and the filters of list calls.

// Request describes one Engine API call.
type Request struct {
	Method string
	Path   string // e.g. /containers/create, without version prefix
	Query  url.Values
	Header http.Header
	Body   io.Reader
	// JSON, when set, is encoded as the body with a JSON content type.
	JSON any
	// Long marks a call whose answer waits on work of open-ended length
	// (a followed stream, a wait, a pull, a build, a stop): the response
	// timeout does not apply to it, ctx alone bounds it.
	Long bool
}

func (c *Client) newRequest(ctx context.Context, r Request) (*http.Request, error) {
	if c == nil {
		return nil, fmt.Errorf("%s %s: %w", r.Method, r.Path, ErrNoClient)
	}
	if ctx == nil {
		return nil, fmt.Errorf("%s %s: %w", r.Method, r.Path, ErrNilContext)
	}
	if c.isClosed() {
		return nil, fmt.Errorf("%s %s: %w", r.Method, r.Path, ErrClosed)
	}
	v, err := c.Version(ctx)
	if err != nil {
		return nil, err
	}
	u := c.scheme + "://" + c.urlHost + "/v" + v + r.Path
	if len(r.Query) > 0 {
		u += "?" + r.Query.Encode()
	}
	body := r.Body
	if r.JSON != nil {
		buf, err := json.Marshal(r.JSON)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", r.Method, r.Path, err)
		}
		body = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if r.JSON != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", c.userAgnt)
	return req, nil
}

// Do sends r and returns the response when its status is below 400;
// otherwise it reads the engine's message and returns an *APIError. The
// caller closes the body.
func (c *Client) Do(ctx context.Context, r Request) (*http.Response, error) {
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, req, r.Long)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 || resp.StatusCode == http.StatusNotModified {
		defer resp.Body.Close()
		return nil, readAPIError(r.Method, r.Path, resp)
	}
	return resp, nil
}

// readAPIError reads at most maxErrorBody of an error answer and keeps at
// most maxErrorMessage of its message.
func readAPIError(method, path string, resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	msg := strings.TrimSpace(string(data))
	var body struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &body) == nil && body.Message != "" {
		msg = body.Message
	}
	return &APIError{Method: method, Path: path, StatusCode: resp.StatusCode, Message: cutMessage(msg)}
}

// DoJSON sends r and decodes a JSON answer into out (when out is not nil).
// The answer is bounded (4 MiB, and a number of JSON values): a larger one
// is an *AnswerTooLargeError.
func (c *Client) DoJSON(ctx context.Context, r Request, out any) error {
	return c.doJSON(ctx, r, objectAnswer, out)
}

func (c *Client) doJSON(ctx context.Context, r Request, b answerBound, out any) error {
	resp, err := c.Do(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		// Read what a sane answer holds so the connection can be reused;
		// closing the body drops it otherwise.
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
		return nil
	}
	return decodeAnswer(resp.Body, r.Method, r.Path, b, out)
}

// Filters are Engine API list filters such as {"label": {"a=b"}}.
type Filters map[string][]string

func (f Filters) encode() string {
	if len(f) == 0 {
		return ""
	}
	b, _ := json.Marshal(map[string][]string(f))
	return string(b)
}

func filterQuery(q url.Values, f Filters) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if s := f.encode(); s != "" {
		q.Set("filters", s)
	}
	return q
}

// setNonEmpty sets the query parameter key to value unless value is empty:
// an absent parameter leaves the engine's default.
func setNonEmpty(q url.Values, key, value string) {
	if value != "" {
		q.Set(key, value)
	}
}

// listJSON sends r and decodes its JSON array answer one element at a
// time, within maxListAnswer bytes and maxListValues values, each element
// within maxAnswer bytes. A null answer is an empty list.
func listJSON[T any](ctx context.Context, c *Client, r Request) ([]T, error) {
	resp, err := c.Do(ctx, r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return decodeList[T](resp.Body, r.Method, r.Path)
}
