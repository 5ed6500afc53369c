package wait

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HTTPStrategy waits for an HTTP answer from a container port.
type HTTPStrategy struct {
	path     string
	port     string
	https    bool
	insecure bool
	method   string
	header   http.Header
	body     []byte
	status   func(int) bool
	statusS  string
	bodyOK   func([]byte) bool
}

// ForHTTP waits until GET path on the container port set with Port answers
// with status 200 (change with Status or StatusMatcher).
func ForHTTP(path string) *HTTPStrategy {
	return &HTTPStrategy{path: path, method: http.MethodGet, header: http.Header{},
		status: func(c int) bool { return c == http.StatusOK }, statusS: "200"}
}

// Port sets the container port ("8080/tcp"); required.
func (s *HTTPStrategy) Port(p string) *HTTPStrategy { s.port = p; return s }

// TLS uses https.
func (s *HTTPStrategy) TLS() *HTTPStrategy { s.https = true; return s }

// Insecure uses https without verifying the server's certificate.
func (s *HTTPStrategy) Insecure() *HTTPStrategy { s.https, s.insecure = true, true; return s }

// Method sets the request method.
func (s *HTTPStrategy) Method(m string) *HTTPStrategy { s.method = m; return s }

// Header adds a request header.
func (s *HTTPStrategy) Header(k, v string) *HTTPStrategy { s.header.Add(k, v); return s }

// Body sets the request body.
func (s *HTTPStrategy) Body(b []byte) *HTTPStrategy { s.body = b; return s }

// Status waits for this status code.
func (s *HTTPStrategy) Status(code int) *HTTPStrategy {
	s.status, s.statusS = func(c int) bool { return c == code }, strconv.Itoa(code)
	return s
}

// StatusMatcher waits for a status code that match accepts.
func (s *HTTPStrategy) StatusMatcher(match func(int) bool) *HTTPStrategy {
	s.status, s.statusS = match, "matching"
	return s
}

// BodyMatcher also requires the response body to satisfy match.
func (s *HTTPStrategy) BodyMatcher(match func([]byte) bool) *HTTPStrategy { s.bodyOK = match; return s }

// String describes the wait, e.g. `http GET :8080/tcp/healthz status 200`.
func (s *HTTPStrategy) String() string {
	scheme := "http"
	if s.https {
		scheme = "https"
	}
	if s.port == "" {
		return fmt.Sprintf("%s %s %s status %s", scheme, s.method, s.path, s.statusS)
	}
	return fmt.Sprintf("%s %s :%s%s status %s", scheme, s.method, s.port, s.path, s.statusS)
}

// Validate reports a missing or malformed port or path.
func (s *HTTPStrategy) Validate() error {
	call := fmt.Sprintf("ForHTTP(%q)", s.path)
	portBad := portProblem(s.port)
	switch {
	case s.port == "":
		return invalid(call, `no container port to probe: add .Port("8080/tcp")`)
	case portBad != "":
		return invalid(call+fmt.Sprintf(".Port(%q)", s.port), "%s", portBad)
	case s.path != "" && !strings.HasPrefix(s.path, "/"):
		return invalid(call, "the path must start with \"/\": ForHTTP(%q)", "/"+s.path)
	case s.status == nil:
		return invalid(call, "StatusMatcher(nil): give a function, or use Status(code)")
	}
	return nil
}

// Ready blocks until the endpoint answers as wanted.
func (s *HTTPStrategy) Ready(ctx context.Context, t Target) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return run(ctx, t, s.String(), func(ctx context.Context, seen *observation) error {
		addr, err := Address(ctx, t, s.port)
		if err != nil {
			return err
		}
		scheme := "http"
		tr := &http.Transport{DisableKeepAlives: true}
		if s.https {
			scheme = "https"
			tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: s.insecure} //nolint:gosec // the caller asked for it
		}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
		url := scheme + "://" + addr + s.path
		return poll(ctx, func() error {
			req, err := http.NewRequestWithContext(ctx, s.method, url, bytes.NewReader(s.body))
			if err != nil {
				return err
			}
			req.Header = s.header.Clone()
			resp, err := client.Do(req)
			if err != nil {
				seen.set("%s: %v", url, err)
				return err
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if !s.status(resp.StatusCode) {
				seen.set("status %d, body %.200q", resp.StatusCode, body)
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			if s.bodyOK != nil && !s.bodyOK(body) {
				seen.set("status %d, body not matched: %.200q", resp.StatusCode, body)
				return fmt.Errorf("body not matched")
			}
			return nil
		})
	})
}
