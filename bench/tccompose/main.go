// Command tccompose runs a Compose file with testcontainers-go's compose
// module and prints how long Up (with Wait) took, in nanoseconds. It is
// its own module: docker/compose v5, which that module links, does not
// build against the compose-go berth uses (v2.16 moved ServiceConfig's
// fields into embedded structs), so the two cannot share bench's graph.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	tccompose "github.com/testcontainers/testcontainers-go/modules/compose"
)

func main() {
	file := flag.String("file", "", "Compose file")
	flag.Parse()
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "localhost")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	st, err := tccompose.NewDockerCompose(*file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	err = st.Up(ctx, tccompose.Wait(true))
	took := time.Since(start)
	derr := st.Down(context.Background(), tccompose.RemoveOrphans(true), tccompose.RemoveVolumes(true))
	if err != nil || derr != nil {
		fmt.Fprintln(os.Stderr, "up:", err, "down:", derr)
		os.Exit(1)
	}
	fmt.Println(took.Nanoseconds())
}
