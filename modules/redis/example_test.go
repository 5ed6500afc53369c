package redis_test

import (
	"context"
	"fmt"
	"log"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/modules/redis"
)

// A password-protected server used with go-redis. Outside tests the scope
// is a session, closed by the caller.
func Example() {
	ctx := context.Background()
	s, err := berth.NewSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close(ctx)

	rd, err := redis.New(s).Password("example-pw").Config("maxmemory", "16mb").StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	opts, err := goredis.ParseURL(rd.URL())
	if err != nil {
		log.Fatal(err)
	}
	client := goredis.NewClient(opts)
	defer client.Close()
	if err := client.Set(ctx, "greeting", "hello", 0).Err(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.Get(ctx, "greeting").Val())
	// Output: hello
}

// In a test, Start fails the test on error and the server is removed when
// the test ends.
func ExampleBuilder_Start() {
	var t *testing.T // the test's *testing.T
	h := berth.New(t)
	rd := redis.New(h).Config("maxmemory-policy", "allkeys-lru").Start()
	client := goredis.NewClient(&goredis.Options{Addr: rd.Addr(), Password: rd.Password()})
	defer client.Close()
}

// One server for the whole `go test ./...` run, a logical database per
// test: empty when the test gets it, emptied when the test ends.
func ExampleContainer_DB() {
	var t *testing.T
	h := berth.New(t)
	rd := redis.New(h.Shared()).Databases(64).Start()
	opts, err := goredis.ParseURL(rd.DB(t).URL()) // redis://127.0.0.1:49153/1
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	defer c.Close()
}
