package berth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
)

// A test gets a harness, describes a container fluently and starts it;
// everything is removed when the test ends.
func ExampleNew() {
	var t *testing.T // the test's *testing.T
	h := berth.New(t)
	c := h.Container("busybox:1.36").
		Cmd("sh", "-c", "mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 8080 -h /www").
		Port("8080/tcp").
		Start()
	fmt.Println(c.Endpoint(t.Context(), "8080/tcp")) // http://127.0.0.1:49153
}

// Containers on a network resolve each other by alias.
func ExampleHarness_Network() {
	var t *testing.T
	h := berth.New(t)
	net := h.Network("backend")
	h.Container("busybox:1.36").Cmd("httpd", "-f", "-p", "80").Network(net, "web").Start()
	client := h.Container("busybox:1.36").Cmd("sleep", "600").Network(net).Start()
	res, err := client.Exec(t.Context(), []string{"wget", "-q", "-O-", "http://web/"})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(res.ExitCode)
}

// StartE returns errors instead of failing the test; bad input is typed.
func ExampleContainerBuilder_StartE() {
	var t *testing.T
	h := berth.New(t)
	_, err := h.Container("busybox:1.36").Port("abc").StartE(t.Context())
	fmt.Println(errors.Is(err, container.ErrInvalidSpec))
}

// TestMain (or any tool) uses a Session and closes it; berth.Main fails the
// binary when any resource of the shared test session was left behind.
func ExampleNewSession() {
	ctx := context.Background()
	s, err := berth.NewSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close(ctx)
	c, err := s.Container("redis:7-bookworm").Port("6379/tcp").StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	addr, _ := c.Container.Endpoint(ctx, "6379/tcp", "")
	fmt.Println(addr)
}

// Warm starts commit a container's initialized state once and start from
// it on later runs.
func ExampleContainerBuilder_Warm() {
	var t *testing.T
	h := berth.New(t)
	c := h.Container("postgres:15-bookworm").
		Env("POSTGRES_PASSWORD", "pw").
		Env("PGDATA", "/pgdata"). // not a VOLUME, so the commit keeps it
		Port("5432/tcp").
		Warm("schema-v3").
		Start()
	fmt.Println(c.WarmResult().Hit)
}

// A container shared by every package's tests in one `go test ./...`
// run: the first test binary that asks starts it, the others join it, and
// it is removed when the go command exits. Run outside go test, it is the
// binary's own.
func ExampleHarness_Shared() {
	var t *testing.T
	h := berth.New(t)
	c := h.Shared().Container("busybox:1.36").
		Cmd("sh", "-c", "mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 8080 -h /www").
		Port("8080/tcp").
		Start()
	fmt.Println(c.Endpoint(t.Context(), "8080/tcp"))
}

// A container calls back into the test: an httptest.Server on 127.0.0.1
// is reached at host.berth.internal and the same port.
func ExampleContainerBuilder_HostAccess() {
	var t *testing.T
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "webhook received")
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	h := berth.New(t)
	c := h.Container("busybox:1.36").HostAccess(port).Cmd("sleep", "600").Start()
	res, _ := c.Exec(t.Context(), []string{"wget", "-qO-", fmt.Sprintf("http://%s:%d/hook", berth.HostInternal, port)})
	fmt.Print(string(res.Stdout)) // webhook received
}
