package wire

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// ServerVersion returns GET /version.
func (c *Client) ServerVersion(ctx context.Context) (SystemVersion, error) {
	var out SystemVersion
	err := c.DoJSON(ctx, Request{Method: http.MethodGet, Path: "/version"}, &out)
	return out, err
}

// Info returns GET /info.
func (c *Client) Info(ctx context.Context) (SystemInfo, error) {
	var out SystemInfo
	err := c.DoJSON(ctx, Request{Method: http.MethodGet, Path: "/info"}, &out)
	return out, err
}

// Events streams engine events matching f until ctx ends. The event channel
// closes when the stream ends; the error channel then carries nil (ctx
// ended) or the error that ended it.
func (c *Client) Events(ctx context.Context, f Filters) (<-chan Event, <-chan error) {
	events := make(chan Event, 16)
	errc := make(chan error, 1)
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/events", Query: filterQuery(nil, f), Long: true})
	if err != nil {
		close(events)
		errc <- err
		return events, errc
	}
	go func() {
		defer close(events)
		defer resp.Body.Close()
		lr := &limitedReader{r: resp.Body}
		dec := json.NewDecoder(lr)
		for {
			lr.n = maxEvent
			var ev Event
			if err := dec.Decode(&ev); err != nil {
				if lr.n <= 0 {
					err = &AnswerTooLargeError{Method: http.MethodGet, Path: "/events", Kind: "event", Limit: maxEvent, Unit: "bytes"}
				}
				if ctx.Err() != nil || errors.Is(err, io.EOF) {
					errc <- nil
				} else {
					errc <- err
				}
				return
			}
			select {
			case events <- ev:
			case <-ctx.Done():
				errc <- nil
				return
			}
		}
	}()
	return events, errc
}
