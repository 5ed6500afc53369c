package engine_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/berth-go/berth/engine"
)

// A tool that must not wait long on a hung engine bounds how long the
// engine may take to start answering; the work itself stays bounded by
// ctx.
func ExampleWithResponseTimeout() {
	c, err := engine.New(engine.WithResponseTimeout(10 * time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	_, err = c.Version(context.Background())
	if errors.Is(err, engine.ErrNoResponse) {
		fmt.Println("the engine took the call and never answered:", err)
	}
}
