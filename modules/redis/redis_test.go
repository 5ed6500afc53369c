package redis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/internal/tests/modtest"
	"github.com/berth-go/berth/modules/redis"
	"github.com/berth-go/berth/wait"
)

func client(t testing.TB, url string) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(url)
	require.NoError(t, err)
	c := goredis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSetGet(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	rd := redis.New(h).Start()
	assert.Equal(t, "", rd.Password())
	assert.Equal(t, fmt.Sprintf("127.0.0.1:%d", rd.Port()), rd.Addr())
	assert.Equal(t, "redis://"+rd.Addr()+"/0", rd.URL())

	c := client(t, rd.URL())
	require.NoError(t, c.Set(ctx, "greeting", "hello", 0).Err())
	got, err := c.Get(ctx, "greeting").Result()
	require.NoError(t, err)
	assert.Equal(t, "hello", got)
	_, err = c.Get(ctx, "missing").Result()
	assert.ErrorIs(t, err, goredis.Nil)

	// The defaults turn persistence off.
	cfg, err := c.ConfigGet(ctx, "save").Result()
	require.NoError(t, err)
	assert.Equal(t, "", cfg["save"])
	cfg, err = c.ConfigGet(ctx, "appendonly").Result()
	require.NoError(t, err)
	assert.Equal(t, "no", cfg["appendonly"])
}

func TestPassword(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	rd := redis.New(h).Password("s3cret:pass@word").Start()
	assert.Equal(t, fmt.Sprintf("redis://default:s3cret%%3Apass%%40word@127.0.0.1:%d/0", rd.Port()), rd.URL())

	c := client(t, rd.URL())
	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	assert.Equal(t, "v", c.Get(ctx, "k").Val())

	anon := goredis.NewClient(&goredis.Options{Addr: rd.Addr()})
	defer anon.Close()
	err := anon.Get(ctx, "k").Err()
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "NOAUTH"), err.Error())

	wrong := goredis.NewClient(&goredis.Options{Addr: rd.Addr(), Password: "wrong"})
	defer wrong.Close()
	err = wrong.Ping(ctx).Err()
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "WRONGPASS"), err.Error())

	assert.NotContains(t, fmt.Sprint(rd), "s3cret")
	assert.NotContains(t, fmt.Sprintf("%+v", rd), "s3cret")
}

func TestConfig(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	ctx := t.Context()
	rd := redis.New(h).
		Config("maxmemory", "32mb").
		Config("maxmemory-policy", "noeviction").
		Config("maxmemory-policy", "allkeys-lru"). // the last call wins
		Config("save", "900 1 300 10").
		Start()
	c := client(t, rd.URL())
	for key, want := range map[string]string{
		"maxmemory":        "33554432",
		"maxmemory-policy": "allkeys-lru",
		"save":             "900 1 300 10",
	} {
		cfg, err := c.ConfigGet(ctx, key).Result()
		require.NoError(t, err)
		assert.Equal(t, want, cfg[key], key)
	}
}

func TestNetworkURL(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	net := h.Network("cache")
	rd := redis.New(h).Password("pw").Network(net, "cache").Start()
	assert.Equal(t, "redis://default:pw@cache:6379/0", rd.NetworkURL("cache"))
	out := modtest.ExecOnNetwork(t, h, net, redis.DefaultImage, "redis-cli", "--no-auth-warning", "-u", rd.NetworkURL("cache"), "ping")
	assert.Equal(t, "PONG\n", out)
}

func TestParallelInstances(t *testing.T) {
	t.Parallel()
	modtest.Instances(t, 3, func(t *testing.T, _ int) {
		rd := redis.New(berth.New(t)).Start()
		c := client(t, rd.URL())
		n, err := c.Incr(t.Context(), "counter").Result()
		require.NoError(t, err)
		assert.Equal(t, int64(1), n, "each test has a server of its own")
	})
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	modtest.BadInput(t, func(h *berth.Harness) *redis.Builder { return redis.New(h) }, (*redis.Builder).StartE, []modtest.Case[*redis.Builder]{
		{Name: "empty password", Build: func(b *redis.Builder) *redis.Builder { return b.Password("") }, Want: "Password"},
		{Name: "newline in password", Build: func(b *redis.Builder) *redis.Builder { return b.Password("a\nb") }, Want: "line breaks"},
		{Name: "bad key", Build: func(b *redis.Builder) *redis.Builder { return b.Config("Max Memory", "1") }, Want: "setting name"},
		{Name: "requirepass", Build: func(b *redis.Builder) *redis.Builder { return b.Config("requirepass", "hunter2-secret") }, Want: "use Password"},
		{Name: "newline in value", Build: func(b *redis.Builder) *redis.Builder { return b.Config("maxmemory", "1\n2") }, Want: "line break"},
		{Name: "empty image", Build: func(b *redis.Builder) *redis.Builder { return b.Image("") }, Want: "Image"},
	})
}

func TestFailedStart(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	err := modtest.StartFails(t, h, 20*time.Second, redis.New(h).Password(modtest.Secret).Config("no-such-setting", "1").StartE, "")
	var exit *wait.ExitError
	assert.ErrorAs(t, err, &exit, "the server's exit is named, with its log tail")
}

// BenchmarkStartToReady measures New(...).Start() until PING answers.
func BenchmarkStartToReady(b *testing.B) {
	modtest.StartToReady(b, func(h *berth.Harness, ctx context.Context) (*redis.Container, error) {
		return redis.New(h).StartE(ctx)
	})
}
