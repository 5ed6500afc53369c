package nats_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/internal/tests/modtest"
	"github.com/berth-go/berth/modules/nats"
	"github.com/berth-go/berth/wait"
)

func connect(t testing.TB, url string, opts ...natsgo.Option) *natsgo.Conn {
	t.Helper()
	nc, err := natsgo.Connect(url, append(opts, natsgo.Timeout(5*time.Second))...)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, json.Unmarshal(body, &v), string(body))
	return v
}

func TestPublishSubscribe(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	srv := nats.New(h).Start()
	assert.Equal(t, fmt.Sprintf("nats://127.0.0.1:%d", srv.Port()), srv.URL())
	assert.False(t, srv.JetStreamEnabled())

	nc := connect(t, srv.URL())
	sub, err := nc.SubscribeSync("orders.>")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("orders.new", []byte("42")))
	msg, err := sub.NextMsg(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, "orders.new", msg.Subject)
	assert.Equal(t, "42", string(msg.Data))

	// Request-reply through the server.
	_, err = nc.Subscribe("echo", func(m *natsgo.Msg) { m.Respond(append([]byte("re: "), m.Data...)) })
	require.NoError(t, err)
	reply, err := nc.Request("echo", []byte("hi"), 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "re: hi", string(reply.Data))

	// JetStream is off unless asked for.
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	_, err = js.AccountInfo(t.Context())
	assert.ErrorIs(t, err, jetstream.ErrJetStreamNotEnabled)
}

func TestJetStream(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	srv := nats.New(h).JetStream().Start()
	assert.True(t, srv.JetStreamEnabled())

	nc := connect(t, srv.URL())
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.*"}})
	require.NoError(t, err)
	for i := range 3 {
		_, err := js.Publish(ctx, "orders.new", []byte(fmt.Sprint(i)))
		require.NoError(t, err)
	}
	info, err := stream.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), info.State.Msgs)

	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "settings"})
	require.NoError(t, err)
	_, err = kv.Put(ctx, "color", []byte("blue"))
	require.NoError(t, err)
	entry, err := kv.Get(ctx, "color")
	require.NoError(t, err)
	assert.Equal(t, "blue", string(entry.Value()))

	// The monitoring endpoint reports JetStream too.
	jsz := getJSON(t, srv.MonitorURL()+"/jsz")
	assert.EqualValues(t, 2, jsz["streams"], "ORDERS and the key-value bucket: %v", jsz)
}

func TestMonitoring(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	srv := nats.New(h).Arg("--server_name", "berth-monitored").Start()
	assert.True(t, strings.HasPrefix(srv.MonitorURL(), "http://127.0.0.1:"), srv.MonitorURL())
	assert.Equal(t, "ok", getJSON(t, srv.MonitorURL()+"/healthz")["status"])
	connect(t, srv.URL(), natsgo.Name("watched-client"))
	varz := getJSON(t, srv.MonitorURL()+"/varz")
	assert.Equal(t, "berth-monitored", varz["server_name"], "Arg reaches nats-server")
	connz := getJSON(t, srv.MonitorURL()+"/connz")
	assert.Contains(t, fmt.Sprint(connz["connections"]), "watched-client")
}

func TestUserPassword(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	srv := nats.New(h).User("app", "s3cret:p@ss/word").Start()
	assert.Equal(t, fmt.Sprintf("nats://app:s3cret%%3Ap%%40ss%%2Fword@127.0.0.1:%d", srv.Port()), srv.URL())
	nc := connect(t, srv.URL())
	require.NoError(t, nc.Flush())

	_, err := natsgo.Connect(fmt.Sprintf("nats://127.0.0.1:%d", srv.Port()), natsgo.Timeout(5*time.Second))
	assert.ErrorIs(t, err, natsgo.ErrAuthorization, "no credentials")
	_, err = natsgo.Connect(fmt.Sprintf("nats://127.0.0.1:%d", srv.Port()), natsgo.UserInfo("app", "wrong"), natsgo.Timeout(5*time.Second))
	assert.Error(t, err, "a wrong password")

	for _, v := range []any{srv, nats.New(h).User("app", "s3cret:p@ss/word")} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			assert.NotContains(t, fmt.Sprintf(verb, v), "s3cret", verb)
		}
	}
	assert.Contains(t, fmt.Sprintf("%#v", srv), srv.ID()[:12], "the handle prints as the container")
}

func TestToken(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	srv := nats.New(h).Token("t0ken-value").Start()
	assert.Equal(t, fmt.Sprintf("nats://t0ken-value@127.0.0.1:%d", srv.Port()), srv.URL())
	nc := connect(t, srv.URL())
	require.NoError(t, nc.Flush())
	_, err := natsgo.Connect(fmt.Sprintf("nats://127.0.0.1:%d", srv.Port()), natsgo.Timeout(5*time.Second))
	assert.ErrorIs(t, err, natsgo.ErrAuthorization)
}

func TestNetworkURL(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	net := h.Network("bus")
	srv := nats.New(h).Token("net-token").Network(net, "bus").Start()
	assert.Equal(t, "nats://net-token@bus:4222", srv.NetworkURL("bus"))
	nc := connect(t, srv.URL())
	sub, err := nc.SubscribeSync("from.peer")
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	// Another container on the network speaks the protocol by hand.
	out := modtest.ExecOnNetwork(t, h, net, nats.DefaultImage, "bash", "-c",
		`exec 3<>/dev/tcp/bus/4222 && read -r info <&3 && printf 'CONNECT {"verbose":false,"auth_token":"net-token"}\r\nPUB from.peer 5\r\nhello\r\nPING\r\n' >&3 && read -r pong <&3 && echo "$pong"`)
	assert.Equal(t, "PONG", strings.TrimSpace(out))
	msg, err := sub.NextMsg(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(msg.Data))
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	modtest.BadInput(t, func(h *berth.Harness) *nats.Builder { return nats.New(h) }, (*nats.Builder).StartE, []modtest.Case[*nats.Builder]{
		{Name: "empty image", Build: func(b *nats.Builder) *nats.Builder { return b.Image("") }, Want: "Image"},
		{Name: "empty password", Build: func(b *nats.Builder) *nats.Builder { return b.User("u", "") }, Want: "password must not be empty"},
		{Name: "quote in password", Build: func(b *nats.Builder) *nats.Builder { return b.User("u", `hunter2"x`) }, Want: "quote"},
		{Name: "newline in token", Build: func(b *nats.Builder) *nats.Builder { return b.Token("hunter2\nx") }, Want: "control"},
		{Name: "user and token", Build: func(b *nats.Builder) *nats.Builder { return b.User("u", "hunter2").Token("hunter2") }, Want: "one or the other"},
		{Name: "NUL in arg", Build: func(b *nats.Builder) *nats.Builder { return b.Arg("a\x00b") }, Want: "NUL"},
	})
}

func TestFailedStart(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	err := modtest.StartFails(t, h, 20*time.Second, nats.New(h).Token(modtest.Secret).Arg("--no-such-flag").StartE, "")
	var exit *wait.ExitError
	assert.ErrorAs(t, err, &exit, "the server's exit is named, with its log tail")
}

// A readiness check with the wrong credentials ends at once instead of
// running into the timeout.
func TestRefusedCredentials(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	// A flag after the configuration file wins: the server wants another
	// token than the one the readiness check sends.
	b := nats.New(h).Token(modtest.Secret).Arg("--auth", "other-token")
	modtest.StartFails(t, h, 20*time.Second, b.StartE, "refused the credentials")
}

func TestSession(t *testing.T) {
	t.Parallel()
	modtest.GoneWithSession(t, func(ctx context.Context, s *berth.Session) (*nats.Container, error) {
		return nats.New(s).StartE(ctx)
	}, func(_ context.Context, srv *nats.Container) error {
		nc, err := natsgo.Connect(srv.URL(), natsgo.Timeout(5*time.Second))
		if err != nil {
			return err
		}
		defer nc.Close()
		return nc.Flush()
	})
}

// BenchmarkStartToReady measures New(...).Start() until PING answers.
func BenchmarkStartToReady(b *testing.B) {
	modtest.StartToReady(b, func(h *berth.Harness, ctx context.Context) (*nats.Container, error) {
		return nats.New(h).StartE(ctx)
	})
}
