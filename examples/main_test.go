package examples

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/modules/redis"
)

// shared is one redis server for every test of this package, started once
// in TestMain: the pattern for expensive dependencies tests only read from
// or keep apart by key.
var shared *redis.Container

func TestMain(m *testing.M) {
	ctx := context.Background()
	s, err := berth.NewSession(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared, err = redis.New(s).StartE(ctx)
	if err != nil {
		s.Close(ctx)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	// Close removes the shared server; berth.Main-style leftover checking
	// for the tests' own harnesses follows.
	if err := s.Close(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "close session:", err)
		code = 1
	}
	if left, err := berth.Leftovers(ctx); err != nil || len(left) > 0 {
		fmt.Fprintln(os.Stderr, "leftovers:", left, err)
		code = 1
	}
	os.Exit(code)
}
