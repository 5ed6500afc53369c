package container_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
)

// session makes a session for an example and the context it runs in; the
// caller closes the session, which removes its containers.
func session() (context.Context, *berth.Session) {
	ctx := context.Background()
	return ctx, must(berth.NewSession(ctx))
}

// must stops the example on an error and hands back the value.
func must[T any](v T, err error) T {
	check(err)
	return v
}

// check stops the example on an error.
func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// Top lists the processes of a running container.
func ExampleContainer_Top() {
	ctx, s := session()
	defer s.Close(ctx)
	c := must(s.Container("busybox:1.36").Cmd("sleep", "600").StartE(ctx))
	p := must(c.Top(ctx, "-o pid,args"))
	fmt.Println(p.Titles, len(p.Rows), "process")
	// Output: [PID COMMAND] 1 process
}

// Stats takes one sample with the numbers docker stats shows.
func ExampleContainer_Stats() {
	ctx, s := session()
	defer s.Close(ctx)
	c := must(s.Container("busybox:1.36").Cmd("sleep", "600").Memory(64 << 20).StartE(ctx))
	st := must(c.Stats(ctx))
	fmt.Println(st.MemoryLimit>>20, "MiB limit;", st.Pids, "process")
	// Output: 64 MiB limit; 1 process
}

// Update changes limits while the container runs. An engine that cannot
// (Podman's Docker API has no update endpoint) says so with
// engine.ErrUnsupported: the limits then go into a new container's create.
func ExampleContainer_Update() {
	ctx, s := session()
	defer s.Close(ctx)
	c := must(s.Container("busybox:1.36").Cmd("sleep", "600").StartE(ctx))
	err := c.Update(ctx, container.Limits{Memory: 64 << 20, CPUs: 0.5, PidsLimit: 100})
	if errors.Is(err, engine.ErrUnsupported) {
		c, err = s.Container("busybox:1.36").Cmd("sleep", "600").Memory(64 << 20).CPUs(0.5).StartE(ctx)
	}
	check(err)
	st := must(c.Stats(ctx))
	fmt.Println(st.MemoryLimit>>20, "MiB limit")
	// Output: 64 MiB limit
}

// Attach streams stdin in and keeps stdout and stderr apart.
func ExampleContainer_Attach() {
	ctx, s := session()
	defer s.Close(ctx)
	c, err := container.Run(ctx, s.Engine(), container.Spec{
		Image:     "busybox:1.36",
		Cmd:       []string{"sh", "-c", "read name; echo hello $name; echo done >&2"},
		OpenStdin: true, StdinOnce: true,
		Labels: map[string]string{engine.LabelSession: s.ID()},
	}, container.RunOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Remove(ctx)
	a := must(c.Attach(ctx, container.AttachOptions{Stdin: strings.NewReader("berth\n")}))
	check(a.Wait(ctx))
	out := a.Output()
	fmt.Printf("stdout %q stderr %q\n", out.Stdout, out.Stderr)
	// Output: stdout "hello berth\n" stderr "done\n"
}

// Changes and Export show what a container did to its filesystem.
func ExampleContainer_Changes() {
	ctx, s := session()
	defer s.Close(ctx)
	c := must(s.Container("busybox:1.36").Cmd("sleep", "600").StartE(ctx))
	must(c.Exec(ctx, []string{"sh", "-c", "mkdir /out && echo result > /out/r.txt"}))
	changes := must(c.Changes(ctx))
	fmt.Println(changes)

	var tarball bytes.Buffer
	check(c.Export(ctx, &tarball))
	tr := tar.NewReader(&tarball)
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		if hdr.Name == "out/r.txt" {
			data, _ := io.ReadAll(tr)
			fmt.Printf("%s", data)
		}
	}
	// Output:
	// [A /out A /out/r.txt]
	// result
}

// StatPath describes a path; a missing one matches engine.ErrNotFound.
func ExampleContainer_StatPath() {
	ctx, s := session()
	defer s.Close(ctx)
	c := must(s.Container("busybox:1.36").Cmd("sleep", "600").StartE(ctx))
	st := must(c.StatPath(ctx, "/bin/sh"))
	fmt.Println(st.Name, st.Mode.Type() == os.ModeSymlink, st.LinkTarget)
	_, err := c.StatPath(ctx, "/nowhere")
	fmt.Println(errors.Is(err, engine.ErrNotFound))
	// Output:
	// sh true /bin/busybox
	// true
}

// WaitChan returns once the engine has registered the wait, so the exit
// that follows cannot be missed.
func ExampleContainer_WaitChan() {
	ctx, s := session()
	defer s.Close(ctx)
	c := must(s.Container("busybox:1.36").Cmd("sleep", "600").StartE(ctx))
	exited := must(c.WaitChan(ctx, "next-exit"))
	check(c.Kill(ctx, "SIGKILL"))
	fmt.Println((<-exited).ExitCode)
	// Output: 137
}

// Checkpoints need an engine in experimental mode with CRIU; others answer
// with an error matching engine.ErrUnsupported.
func ExampleContainer_Checkpoint() {
	ctx, s := session()
	defer s.Close(ctx)
	c := must(s.Container("busybox:1.36").Cmd("sleep", "600").StartE(ctx))
	err := c.Checkpoint(ctx, "before-migration")
	fmt.Println(errors.Is(err, engine.ErrUnsupported))
	// Output: true
}

// Prune removes the stopped containers of one session and nothing else.
func ExamplePrune() {
	ctx, s := session()
	defer s.Close(ctx)
	c := must(s.Container("busybox:1.36").Cmd("true").StartE(ctx))
	must(c.WaitExit(ctx))
	ids := must(container.Prune(ctx, s.Engine(), s.ID()))
	fmt.Println(len(ids) == 1 && ids[0] == c.ID())
	// Output: true
}
