package rabbitmq_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/internal/tests/modtest"
	"github.com/berth-go/berth/modules/rabbitmq"
	"github.com/berth-go/berth/wait"
)

func dial(t testing.TB, url string) *amqp.Connection {
	t.Helper()
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(10 * time.Second)})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// roundTrip declares a queue, publishes to it and gets the message back.
func roundTrip(t *testing.T, conn *amqp.Connection, body string) {
	t.Helper()
	ctx := t.Context()
	ch, err := conn.Channel()
	require.NoError(t, err)
	defer ch.Close()
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	require.NoError(t, err)
	require.NoError(t, ch.PublishWithContext(ctx, "", q.Name, false, false, amqp.Publishing{Body: []byte(body)}))
	msgs, err := ch.ConsumeWithContext(ctx, q.Name, "", true, true, false, false, nil)
	require.NoError(t, err)
	select {
	case m := <-msgs:
		assert.Equal(t, body, string(m.Body))
	case <-time.After(10 * time.Second):
		t.Fatal("no message back")
	}
}

func TestPublishConsume(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	mq := rabbitmq.New(h).Start()
	assert.Equal(t, fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", mq.Port()), mq.AMQPURL())
	assert.Equal(t, "", mq.ManagementURL(), "management is off by default")
	conn := dial(t, mq.AMQPURL())
	roundTrip(t, conn, "hello")
}

func TestUserVHostManagement(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	mq := rabbitmq.New(h).User("app", "s3cret:p@ss/word").VHost("orders/eu").Management().Start()
	assert.Equal(t, fmt.Sprintf("amqp://app:s3cret%%3Ap%%40ss%%2Fword@127.0.0.1:%d/orders%%2Feu", mq.Port()), mq.AMQPURL())
	uri, err := amqp.ParseURI(mq.AMQPURL())
	require.NoError(t, err)
	assert.Equal(t, "orders/eu", uri.Vhost, "amqp091 reads the virtual host back")
	assert.Equal(t, "s3cret:p@ss/word", uri.Password)

	conn := dial(t, mq.AMQPURL())
	roundTrip(t, conn, "to orders/eu")

	// guest is not there when another user is made.
	_, err = amqp.Dial(fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", mq.Port()))
	require.Error(t, err)
	var ae *amqp.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, amqp.AccessRefused, ae.Code)

	// The management API answers as the user, and lists the queue's vhost.
	require.NotEmpty(t, mq.ManagementURL())
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, mq.ManagementURL()+"/api/vhosts", nil)
	require.NoError(t, err)
	req.SetBasicAuth(mq.User(), mq.Password())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var vhosts []struct{ Name string }
	require.NoError(t, json.Unmarshal(body, &vhosts))
	assert.Equal(t, "orders/eu", vhosts[0].Name)

	for _, v := range []any{mq, rabbitmq.New(h).User("app", "s3cret:p@ss/word")} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			assert.NotContains(t, fmt.Sprintf(verb, v), "s3cret", verb)
		}
	}
}

func TestNetworkAMQPURL(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	net := h.Network("mq")
	mq := rabbitmq.New(h).Network(net, "broker").Start()
	assert.Equal(t, "amqp://guest:guest@broker:5672/", mq.NetworkAMQPURL("broker"))
	// Another container on the network reaches the broker by alias: the
	// protocol header is answered with Connection.Start.
	out := modtest.ExecOnNetwork(t, h, net, rabbitmq.DefaultImage, "bash", "-c",
		`exec 3<>/dev/tcp/broker/5672 && printf 'AMQP\0\0\x09\x01' >&3 && timeout 2 cat <&3 > /tmp/start; grep -ac PLAIN /tmp/start`)
	assert.Equal(t, "1\n", out)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	modtest.BadInput(t, func(h *berth.Harness) *rabbitmq.Builder { return rabbitmq.New(h) }, (*rabbitmq.Builder).StartE, []modtest.Case[*rabbitmq.Builder]{
		{Name: "empty image", Build: func(b *rabbitmq.Builder) *rabbitmq.Builder { return b.Image("") }, Want: "Image"},
		{Name: "empty user", Build: func(b *rabbitmq.Builder) *rabbitmq.Builder { return b.User("", "hunter2") }, Want: "user name must not be empty"},
		{Name: "newline in password", Build: func(b *rabbitmq.Builder) *rabbitmq.Builder { return b.User("u", "hunter2\n") }, Want: "control"},
		{Name: "long password", Build: func(b *rabbitmq.Builder) *rabbitmq.Builder { return b.User("u", "hunter2"+strings.Repeat("x", 255)) }, Want: "longer"},
		{Name: "empty vhost", Build: func(b *rabbitmq.Builder) *rabbitmq.Builder { return b.VHost("") }, Want: "VHost"},
	})
}

func TestFailedStart(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	b := rabbitmq.New(h).User("app", modtest.Secret).
		Customize(func(cb *berth.ContainerBuilder) {
			cb.FileContent("/etc/rabbitmq/conf.d/99-broken.conf", []byte("no_such_setting = 1\n"), 0o644)
		})
	err := modtest.StartFails(t, h, 45*time.Second, b.StartE, "")
	var exit *wait.ExitError
	assert.ErrorAs(t, err, &exit, "the broker's exit is named, with its log tail")
}

// A login the broker refuses ends the wait at once: here the image's
// environment is overridden so the user gets another password.
func TestRefusedLogin(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	b := rabbitmq.New(h).User("app", modtest.Secret).Env("RABBITMQ_DEFAULT_PASS", "other")
	err := modtest.StartFails(t, h, 45*time.Second, b.StartE, "")
	var ae *rabbitmq.AMQPError
	require.ErrorAs(t, err, &ae)
	assert.EqualValues(t, 403, ae.Code, ae.Text)
}

// BenchmarkStartToReady measures New(...).Start() until the virtual host
// opens.
func BenchmarkStartToReady(b *testing.B) {
	modtest.StartToReady(b, func(h *berth.Harness, ctx context.Context) (*rabbitmq.Container, error) {
		return rabbitmq.New(h).StartE(ctx)
	})
}
