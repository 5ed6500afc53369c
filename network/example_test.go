package network_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/network"
)

// Cut a server off its network and heal it again. Outside tests the scope
// is a session, closed by the caller.
func ExampleNetwork_Partition() {
	ctx := context.Background()
	s, err := berth.NewSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close(ctx)

	net, err := s.NetworkE(ctx, "example")
	if err != nil {
		log.Fatal(err)
	}
	web, err := s.Container("busybox:1.36").
		Cmd("sh", "-c", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www").
		Network(net, "web").StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	client, err := s.Container("busybox:1.36").Cmd("sleep", "600").Network(net).StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	get := func() string {
		// Retry briefly: httpd may still be starting.
		for i := 0; ; i++ {
			res, err := client.Exec(ctx, []string{"wget", "-T", "2", "-q", "-O-", "http://web:8080/"})
			if err == nil && res.ExitCode == 0 {
				return strings.TrimSpace(string(res.Stdout))
			}
			if i == 20 {
				return "unreachable"
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	fmt.Println("before:", get())
	if err := net.Partition(ctx, web); err != nil {
		log.Fatal(err)
	}
	res, err := client.Exec(ctx, []string{"wget", "-T", "2", "-q", "-O-", "http://web:8080/"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("partitioned, wget exit code is non-zero:", res.ExitCode != 0)
	if err := net.Heal(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("healed:", get())
	// Output:
	// before: hello
	// partitioned, wget exit code is non-zero: true
	// healed: hello
}

// In a test the harness names the network uniquely and removes it at the
// end; Disconnect and Connect simulate a dependency going away and back.
func ExampleNetwork_Disconnect() {
	var t *testing.T // the test's *testing.T
	h := berth.New(t)
	ctx := t.Context()
	net := h.Network("backend")
	db := h.Container("redis:7-bookworm").Network(net, "cache").Start()
	app := h.Container("example/app:1").Env("CACHE_ADDR", "cache:6379").Network(net).Start()
	_ = app
	if err := net.Disconnect(ctx, db); err != nil {
		t.Fatal(err)
	}
	// ... assert the app degrades gracefully ...
	if err := net.Connect(ctx, db, "cache"); err != nil {
		t.Fatal(err)
	}
}

// Slow a server's link to 64 KiB/s and drop a tenth of what it sends, then
// heal it.
func ExampleNetwork_Degrade() {
	var t *testing.T // the test's *testing.T
	h := berth.New(t)
	net := h.Network("backend")
	db := h.Container("busybox:1.36").Cmd("sleep", "600").Network(net, "db").Start()
	err := net.Degrade(t.Context(), db, network.Fault{Rate: 64 << 10, Loss: 10})
	if errors.Is(err, network.ErrNoNetem) {
		t.Skip(err) // only Delay and Jitter need netem
	}
	// ... the code under test talks to db over a poor link ...
	net.Heal(t.Context())
}
