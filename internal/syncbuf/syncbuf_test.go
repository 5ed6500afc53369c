package syncbuf

import (
	"fmt"
	"sync"
	"testing"
)

func TestBufferConcurrentReads(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 100 {
			fmt.Fprintf(&b, "%d\n", i)
		}
	}()
	for range 100 {
		_ = b.String()
		_ = b.Bytes()
	}
	wg.Wait()
	got := b.Bytes()
	got[0] = 'x' // a copy: the buffer keeps its own
	if b.String()[:2] != "0\n" || len(got) != len(b.String()) {
		t.Fatalf("buffer holds %q", b.String())
	}
}
