package container_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	osexec "os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/wait"
)

// reuseName is a Reuse name no other test or run shares. Its container is
// removed when the test ends: berth keeps reused containers on purpose.
func reuseName(t *testing.T, h *berth.Harness) string {
	name := fmt.Sprintf("berth-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano())
	t.Cleanup(func() { removeContainer(t, h.Engine(), name) })
	return name
}

// reused is a Reuse container that becomes ready a moment after it starts
// and has a file copied in, which widens the window between its create and
// its start.
func reused(h *berth.Harness, name string) *berth.ContainerBuilder {
	return h.Container(busybox).
		FileContent("/etc/berth/reuse.txt", []byte("reused\n"), 0o644).
		Cmd("sh", "-c", "sleep 0.5; echo ready; exec sleep 3600").
		WaitFor(wait.ForLog("ready")).
		Reuse(name)
}

// checkReused fails the test unless id is the running container named name
// with the reuse labels, and its wait strategy was satisfied.
func checkReused(t *testing.T, h *berth.Harness, name, id string) {
	t.Helper()
	info, err := testenv.Wire(h.Engine()).ContainerInspect(t.Context(), name)
	require.NoError(t, err)
	assert.Equal(t, id, info.ID)
	assert.True(t, info.State.Running, "state %s", info.State.Status)
	assert.Equal(t, name, info.Config.Labels[engine.LabelReuse])
	assert.NotEmpty(t, info.Config.Labels[engine.LabelSpecHash])
	assert.Empty(t, info.Config.Labels[engine.LabelSession], "a reused container belongs to no session")
}

func TestReuseConcurrentStarters(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	name := reuseName(t, h)
	const n = 4
	ids := make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			c, err := reused(h, name).StartE(t.Context())
			if !assert.NoError(t, err, "starter %d", i) {
				return
			}
			ids[i] = c.ID()
			logs, err := c.LogsSnapshot(t.Context())
			if assert.NoError(t, err) {
				assert.Contains(t, string(logs.Stdout), "ready", "starter %d returned before its wait strategy", i)
			}
			got, err := c.ReadFile(t.Context(), "/etc/berth/reuse.txt")
			if assert.NoError(t, err) {
				assert.Equal(t, "reused\n", string(got))
			}
		}(i)
	}
	close(start)
	wg.Wait()
	require.NotEmpty(t, ids[0])
	for i, id := range ids[1:] {
		assert.Equal(t, ids[0], id, "starter %d got another container", i+1)
	}
	checkReused(t, h, name, ids[0])
}

// TestReuseStarterProcess runs only as a child of
// TestReuseConcurrentProcesses: it starts the reused container named by
// BERTH_REUSE_NAME and prints its ID.
func TestReuseStarterProcess(t *testing.T) {
	name := os.Getenv("BERTH_REUSE_NAME")
	if name == "" {
		t.Skip("runs only as a child of TestReuseConcurrentProcesses")
	}
	h := berth.New(t)
	c, err := reused(h, name).StartE(t.Context())
	require.NoError(t, err)
	fmt.Printf("reused %s\n", c.ID())
}

func TestReuseConcurrentProcesses(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	name := reuseName(t, h)
	const n = 3
	cmds := make([]*osexec.Cmd, n)
	outs := make([]*strings.Builder, n)
	for i := range cmds {
		cmd := osexec.Command(os.Args[0], "-test.run=^TestReuseStarterProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "BERTH_REUSE_NAME="+name)
		outs[i] = &strings.Builder{}
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		cmds[i] = cmd
	}
	for _, cmd := range cmds {
		require.NoError(t, cmd.Start())
	}
	ids := make([]string, n)
	for i, cmd := range cmds {
		err := cmd.Wait()
		require.NoError(t, err, "starter process %d:\n%s", i, outs[i])
		sc := bufio.NewScanner(strings.NewReader(outs[i].String()))
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "reused "); ok {
				ids[i] = id
			}
		}
		require.NotEmpty(t, ids[i], "starter process %d printed no ID:\n%s", i, outs[i])
	}
	for i, id := range ids[1:] {
		assert.Equal(t, ids[0], id, "starter process %d got another container", i+1)
	}
	checkReused(t, h, name, ids[0])
}

// TestReuseWaitsForTheCreatorsStart covers a starter that finds the
// container created but not started yet: it waits for the creator, which
// then starts it without failing.
func TestReuseWaitsForTheCreatorsStart(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	name, spec, creator := createdNotStarted(t, h)

	type result struct {
		id  string
		err error
	}
	joined := make(chan result, 1)
	go func() {
		c, err := reused(h, name).StartE(context.WithoutCancel(t.Context()))
		if err != nil {
			joined <- result{err: err}
			return
		}
		joined <- result{id: c.ID()}
	}()
	time.Sleep(500 * time.Millisecond)
	select {
	case r := <-joined:
		t.Fatalf("the starter returned before the creator started the container: %+v", r)
	default:
	}
	require.NoError(t, creator.StartAndWait(t.Context(), spec.WaitFor))
	r := <-joined
	require.NoError(t, r.err)
	assert.Equal(t, creator.ID(), r.id)
	checkReused(t, h, name, creator.ID())
}

// TestReuseStartsAnAbandonedCreatedContainer covers a creator that died
// between its create and its start: after a grace the starter starts the
// container itself.
func TestReuseStartsAnAbandonedCreatedContainer(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	name, _, abandoned := createdNotStarted(t, h)

	begin := time.Now()
	c, err := reused(h, name).StartE(t.Context())
	require.NoError(t, err)
	assert.Equal(t, abandoned.ID(), c.ID())
	assert.GreaterOrEqual(t, time.Since(begin), 5*time.Second, "the creator's start was not waited for")
	checkReused(t, h, name, c.ID())
}

// createdNotStarted creates the test's reused container the way a starter
// that won the name does, and stops there: a creator that has not started
// it yet, or died before it could.
func createdNotStarted(t *testing.T, h *berth.Harness) (string, container.Spec, *container.Container) {
	t.Helper()
	name := reuseName(t, h)
	spec := reused(h, name).Spec()
	hash, err := container.SpecHash(spec)
	require.NoError(t, err)
	created := spec
	created.Reuse = false
	created.Labels = map[string]string{engine.LabelReuse: name, engine.LabelSpecHash: hash}
	ctr, err := container.Create(t.Context(), h.Engine(), created, container.RunOptions{})
	require.NoError(t, err)
	return name, spec, ctr
}
