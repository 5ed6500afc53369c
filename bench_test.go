package berth_test

import (
	"context"
	"sync"
	"testing"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/engine"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/internal/wire"
)

// The benchmarks compare berth with the same work done by raw wire calls
// (create + start + inspect). Compare the sub-benchmarks' ns/op: the goals
// are berth/raw ≤ 1.10 for start and remove, ≤ 1.2 for 20 in parallel.

func rawStart(b *testing.B, c *wire.Client, labels map[string]string) string {
	ctx := context.Background()
	resp, err := c.ContainerCreate(ctx, "", &wire.ContainerConfig{Image: busybox, Cmd: []string{"sleep", "3600"}, Labels: labels}, "")
	if err == nil {
		err = c.ContainerStart(ctx, resp.ID)
	}
	if err == nil {
		_, err = c.ContainerInspect(ctx, resp.ID)
	}
	if err != nil {
		b.Error(err) // may run on another goroutine: no Fatal
	}
	return resp.ID
}

func BenchmarkStartToRunning(b *testing.B) {
	h := berth.New(b)
	c := testenv.Wire(h.Engine())
	labels := map[string]string{engine.LabelSession: h.Session().ID(), engine.LabelTest: b.Name()}
	ctx := context.Background()
	b.Run("berth", func(b *testing.B) {
		for b.Loop() {
			ctr, err := h.Container(busybox).Cmd("sleep", "3600").StartE(ctx)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			ctr.Remove(ctx)
			b.StartTimer()
		}
	})
	b.Run("raw", func(b *testing.B) {
		for b.Loop() {
			id := rawStart(b, c, labels)
			b.StopTimer()
			c.ContainerRemove(ctx, id, wire.RemoveOptions{Force: true})
			b.StartTimer()
		}
	})
}

func BenchmarkRemove(b *testing.B) {
	h := berth.New(b)
	c := testenv.Wire(h.Engine())
	labels := map[string]string{engine.LabelSession: h.Session().ID(), engine.LabelTest: b.Name()}
	ctx := context.Background()
	// PID 1 ignores SIGTERM: a graceful stop would wait out its timeout.
	cmd := []string{"sh", "-c", "trap '' TERM; while true; do sleep 1; done"}
	b.Run("berth", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			ctr, err := h.Container(busybox).Cmd(cmd...).StartE(ctx)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := ctr.Remove(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			resp, err := c.ContainerCreate(ctx, "", &wire.ContainerConfig{Image: busybox, Cmd: cmd, Labels: labels}, "")
			if err != nil {
				b.Fatal(err)
			}
			if err := c.ContainerStart(ctx, resp.ID); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := c.ContainerRemove(ctx, resp.ID, wire.RemoveOptions{Force: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkParallel20(b *testing.B) {
	h := berth.New(b)
	c := testenv.Wire(h.Engine())
	labels := map[string]string{engine.LabelSession: h.Session().ID(), engine.LabelTest: b.Name()}
	ctx := context.Background()
	each := func(b *testing.B, start func() func()) {
		for b.Loop() {
			var wg sync.WaitGroup
			removes := make([]func(), 20)
			for i := range 20 {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					removes[i] = start()
				}(i)
			}
			wg.Wait()
			b.StopTimer()
			for _, r := range removes {
				r()
			}
			b.StartTimer()
		}
	}
	b.Run("berth", func(b *testing.B) {
		each(b, func() func() {
			ctr, err := h.Container(busybox).Cmd("sleep", "3600").StartE(ctx)
			if err != nil {
				b.Error(err)
				return func() {}
			}
			return func() { ctr.Remove(ctx) }
		})
	})
	b.Run("raw", func(b *testing.B) {
		each(b, func() func() {
			id := rawStart(b, c, labels)
			return func() { c.ContainerRemove(ctx, id, wire.RemoveOptions{Force: true}) }
		})
	})
}
