package compose_test

import (
	"context"
	"fmt"
	"log"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/compose"
)

// A stack in a session, as a TestMain or a tool starts one: a writer fills
// a named volume, a reader that waits for the writer to finish reads it.
func Example() {
	ctx := context.Background()
	s, err := berth.NewSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close(ctx)

	stack, err := compose.UpE(ctx, s, "testdata/volume/docker-compose.yml")
	if err != nil {
		log.Fatal(err)
	}
	r, err := stack.Service("reader").Exec(ctx, []string{"cat", "/shared/message"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(r.Stdout))
	fmt.Println(stack.Services())
	// Output:
	// written-by-writer
	// [reader writer]
}
