package rabbitmq_test

import (
	"context"
	"fmt"
	"log"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/modules/rabbitmq"
)

// A broker used with amqp091-go. Outside tests the scope is a session,
// closed by the caller.
func Example() {
	ctx := context.Background()
	s, err := berth.NewSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close(ctx)

	mq, err := rabbitmq.New(s).User("app", "example-pw").StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	conn, err := amqp.Dial(mq.AMQPURL())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		log.Fatal(err)
	}
	q, err := ch.QueueDeclare("greetings", false, true, false, false, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := ch.PublishWithContext(ctx, "", q.Name, false, false, amqp.Publishing{Body: []byte("hello")}); err != nil {
		log.Fatal(err)
	}
	for {
		msg, ok, err := ch.Get(q.Name, true)
		if err != nil {
			log.Fatal(err)
		}
		if ok {
			fmt.Println(string(msg.Body))
			break
		}
	}
	// Output: hello
}

// In a test, Start fails the test on error and the broker is removed when
// the test ends. Management turns the HTTP API on.
func ExampleBuilder_Management() {
	var t *testing.T // the test's *testing.T
	h := berth.New(t)
	mq := rabbitmq.New(h).VHost("orders").Management().Start()
	_ = mq.ManagementURL() + "/api/overview" // basic auth: mq.User(), mq.Password()
}
