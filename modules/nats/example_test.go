package nats_test

import (
	"context"
	"fmt"
	"log"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/modules/nats"
)

// A server used with nats.go. Outside tests the scope is a session, closed
// by the caller.
func Example() {
	ctx := context.Background()
	s, err := berth.NewSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close(ctx)

	srv, err := nats.New(s).User("app", "example-pw").StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	nc, err := natsgo.Connect(srv.URL())
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync("greetings")
	if err != nil {
		log.Fatal(err)
	}
	if err := nc.Publish("greetings", []byte("hello")); err != nil {
		log.Fatal(err)
	}
	msg, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(msg.Data))
	// Output: hello
}

// In a test, Start fails the test on error and the server is removed when
// the test ends. JetStream is on request; the monitoring endpoint is always
// there.
func ExampleBuilder_JetStream() {
	var t *testing.T // the test's *testing.T
	h := berth.New(t)
	srv := nats.New(h).JetStream().Start()
	nc, _ := natsgo.Connect(srv.URL())
	defer nc.Close()
	_ = srv.MonitorURL() + "/jsz" // JetStream's state over HTTP
}
