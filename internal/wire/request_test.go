package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seen is what a fake engine received in one request.
type seen struct {
	method, path, contentType string
	query                     url.Values
	body                      string
}

// recordingEngine answers /_ping and records every other request; it
// answers them with status and body.
func recordingEngine(t *testing.T, status int, answer string) (*Client, func() []seen) {
	t.Helper()
	var mu sync.Mutex
	var got []seen
	addr := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("API-Version", "1.41")
		if r.URL.Path == "/_ping" {
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.URL.Query(), string(b)})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	c, err := New(WithHost("tcp://" + addr))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, func() []seen {
		mu.Lock()
		defer mu.Unlock()
		return append([]seen(nil), got...)
	}
}

// A request carries its version prefix, query, JSON body and content
// type; one without JSON sends no body and no JSON content type.
func TestRequestCarriesQueryAndJSON(t *testing.T) {
	c, requests := recordingEngine(t, http.StatusOK, `{"Id":"abc"}`)
	ctx := context.Background()
	var out struct {
		ID string `json:"Id"`
	}
	require.NoError(t, c.DoJSON(ctx, Request{Method: http.MethodPost, Path: "/things/create",
		Query: url.Values{"name": {"one two"}}, JSON: map[string]int{"n": 1}}, &out))
	assert.Equal(t, "abc", out.ID)
	require.NoError(t, c.DoJSON(ctx, Request{Method: http.MethodGet, Path: "/things/abc/json"}, &out))

	got := requests()
	require.Len(t, got, 2)
	assert.Equal(t, seen{http.MethodPost, "/v1.41/things/create", "application/json", url.Values{"name": {"one two"}}, `{"n":1}`}, got[0])
	assert.Equal(t, seen{http.MethodGet, "/v1.41/things/abc/json", "", url.Values{}, ""}, got[1])
}

// List filters go as one JSON "filters" parameter; none, no parameter.
func TestFiltersQuery(t *testing.T) {
	c, requests := recordingEngine(t, http.StatusOK, `[]`)
	ctx := context.Background()
	_, err := c.ImageList(ctx, Filters{"label": {"a=b"}, "dangling": {"true"}})
	require.NoError(t, err)
	_, err = c.ImageList(ctx, nil)
	require.NoError(t, err)
	got := requests()
	require.Len(t, got, 2)
	assert.JSONEq(t, `{"label":["a=b"],"dangling":["true"]}`, got[0].query.Get("filters"))
	assert.NotContains(t, got[1].query, "filters")

	assert.Equal(t, url.Values{"all": {"1"}}, filterQuery(url.Values{"all": {"1"}}, nil))
	assert.Equal(t, url.Values{"filters": {`{"id":["x"]}`}}, filterQuery(nil, Filters{"id": {"x"}}))
}

// Every status from 400 on is the engine's error, with its message.
func TestBadRequestIsAnAPIError(t *testing.T) {
	c, _ := recordingEngine(t, http.StatusBadRequest, `{"message":"invalid reference format"}`)
	_, err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/images/create"})
	var apiErr *APIError
	require.True(t, errors.As(err, &apiErr), "got %v", err)
	assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	assert.Equal(t, "/images/create", apiErr.Path)
	assert.Contains(t, err.Error(), "invalid reference format")
}

// An endpoint prints its host, and where it came from when that is known.
func TestEndpointString(t *testing.T) {
	assert.Equal(t, "unix:///var/run/docker.sock", Endpoint{Host: "unix:///var/run/docker.sock"}.String())
	assert.Equal(t, "tcp://10.0.0.1:2376 (from DOCKER_HOST)", Endpoint{Host: "tcp://10.0.0.1:2376", From: "DOCKER_HOST"}.String())
	ep := Endpoint{Host: "tcp://10.0.0.1:2376", From: "option"}
	assert.Equal(t, "tcp://10.0.0.1:2376 (from option)", fmt.Sprintf("%v", ep))
	assert.Equal(t, `"tcp://10.0.0.1:2376 (from option)"`, fmt.Sprintf("%q", ep))
}
