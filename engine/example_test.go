package engine_test

import (
	"context"
	"fmt"

	"github.com/berth-go/berth/engine"
)

// The resources berth sessions left behind, with the test that made each:
// what `berth doctor` lists.
func ExampleClient_List() {
	c, err := engine.New() // DOCKER_HOST, DOCKER_CONTEXT, or the default socket
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	rs, err := c.List(context.Background(), engine.Labelled(engine.LabelSession))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rs {
		if r.Session() != "" {
			fmt.Println(r) // e.g. "container 3f2a1b9c0d4e berth-db-1a2b (TestOrders)"
		}
	}
}

// A helper of the user's own takes the public client: it can be handed
// Harness.Engine(), Session.Engine(), or a client of a fake engine.
func ExampleClient_Images() {
	c, err := engine.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	imgs, err := c.Images(context.Background(), engine.Filter{"reference": {"busybox:1.36"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, img := range imgs {
		fmt.Println(img.Tags)
	}
}
