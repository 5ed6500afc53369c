package modkit

import (
	"context"
	"testing"
)

// Hold gives tb a resource of a pool a module keeps on one server (a
// database of its own, say): get takes it under tb's context, naming tb as
// the holder for messages; an error fails tb. The resource is released
// when tb ends, and a failed tb logs what it held, to find the data it
// left. module starts the log line.
func Hold[R interface {
	Release()
	String() string
}](tb testing.TB, module string, get func(ctx context.Context, holder string) (R, error)) R {
	tb.Helper()
	r, err := get(tb.Context(), tb.Name())
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("%s: this test held %s", module, r.String())
		}
		r.Release()
	})
	return r
}
