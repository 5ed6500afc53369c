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

// session makes a session for an example; the caller closes it, which
// removes its containers.
func session(ctx context.Context) *berth.Session {
	s, err := berth.NewSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	return s
}

// Top lists the processes of a running container.
func ExampleContainer_Top() {
	ctx := context.Background()
	s := session(ctx)
	defer s.Close(ctx)
	c, err := s.Container("busybox:1.36").Cmd("sleep", "600").StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	p, err := c.Top(ctx, "-o pid,args")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Titles, len(p.Rows), "process")
	// Output: [PID COMMAND] 1 process
}

// Stats takes one sample with the numbers docker stats shows.
func ExampleContainer_Stats() {
	ctx := context.Background()
	s := session(ctx)
	defer s.Close(ctx)
	c, err := s.Container("busybox:1.36").Cmd("sleep", "600").Memory(64 << 20).StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	st, err := c.Stats(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.MemoryLimit>>20, "MiB limit;", st.Pids, "process")
	// Output: 64 MiB limit; 1 process
}

// Update changes limits while the container runs. An engine that cannot
// (Podman's Docker API has no update endpoint) says so with
// container.ErrUnsupported: the limits then go into a new container's create.
func ExampleContainer_Update() {
	ctx := context.Background()
	s := session(ctx)
	defer s.Close(ctx)
	c, err := s.Container("busybox:1.36").Cmd("sleep", "600").StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	err = c.Update(ctx, container.Limits{Memory: 64 << 20, CPUs: 0.5, PidsLimit: 100})
	if errors.Is(err, container.ErrUnsupported) {
		c, err = s.Container("busybox:1.36").Cmd("sleep", "600").Memory(64 << 20).CPUs(0.5).StartE(ctx)
	}
	if err != nil {
		log.Fatal(err)
	}
	st, err := c.Stats(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.MemoryLimit>>20, "MiB limit")
	// Output: 64 MiB limit
}

// Attach streams stdin in and keeps stdout and stderr apart.
func ExampleContainer_Attach() {
	ctx := context.Background()
	s := session(ctx)
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
	a, err := c.Attach(ctx, container.AttachOptions{Stdin: strings.NewReader("berth\n")})
	if err != nil {
		log.Fatal(err)
	}
	if err := a.Wait(ctx); err != nil {
		log.Fatal(err)
	}
	out := a.Output()
	fmt.Printf("stdout %q stderr %q\n", out.Stdout, out.Stderr)
	// Output: stdout "hello berth\n" stderr "done\n"
}

// Changes and Export show what a container did to its filesystem.
func ExampleContainer_Changes() {
	ctx := context.Background()
	s := session(ctx)
	defer s.Close(ctx)
	c, err := s.Container("busybox:1.36").Cmd("sleep", "600").StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Exec(ctx, []string{"sh", "-c", "mkdir /out && echo result > /out/r.txt"}); err != nil {
		log.Fatal(err)
	}
	changes, err := c.Changes(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(changes)

	var tarball bytes.Buffer
	if err := c.Export(ctx, &tarball); err != nil {
		log.Fatal(err)
	}
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

// StatPath describes a path; a missing one matches container.ErrNotFound.
func ExampleContainer_StatPath() {
	ctx := context.Background()
	s := session(ctx)
	defer s.Close(ctx)
	c, err := s.Container("busybox:1.36").Cmd("sleep", "600").StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	st, err := c.StatPath(ctx, "/bin/sh")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Name, st.Mode.Type() == os.ModeSymlink, st.LinkTarget)
	_, err = c.StatPath(ctx, "/nowhere")
	fmt.Println(errors.Is(err, container.ErrNotFound))
	// Output:
	// sh true /bin/busybox
	// true
}

// WaitChan returns once the engine has registered the wait, so the exit
// that follows cannot be missed.
func ExampleContainer_WaitChan() {
	ctx := context.Background()
	s := session(ctx)
	defer s.Close(ctx)
	c, err := s.Container("busybox:1.36").Cmd("sleep", "600").StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	exited, err := c.WaitChan(ctx, "next-exit")
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Kill(ctx, "SIGKILL"); err != nil {
		log.Fatal(err)
	}
	fmt.Println((<-exited).ExitCode)
	// Output: 137
}

// Checkpoints need an engine in experimental mode with CRIU; others answer
// with an error matching container.ErrUnsupported.
func ExampleContainer_Checkpoint() {
	ctx := context.Background()
	s := session(ctx)
	defer s.Close(ctx)
	c, err := s.Container("busybox:1.36").Cmd("sleep", "600").StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	err = c.Checkpoint(ctx, "before-migration")
	fmt.Println(errors.Is(err, container.ErrUnsupported))
	// Output: true
}

// Prune removes the stopped containers of one session and nothing else.
func ExamplePrune() {
	ctx := context.Background()
	s := session(ctx)
	defer s.Close(ctx)
	c, err := s.Container("busybox:1.36").Cmd("true").StartE(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.WaitExit(ctx); err != nil {
		log.Fatal(err)
	}
	ids, err := container.Prune(ctx, s.Engine(), s.ID())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(ids) == 1 && ids[0] == c.ID())
	// Output: true
}
