package buildkit

import (
	"context"
	"fmt"

	"github.com/berth-go/berth/build"
	"github.com/berth-go/berth/internal/untar"
)

// extract writes the context's tar stream (in-memory files, .dockerignore
// applied) into dir, keeping modes and symlinks.
func extract(ctx context.Context, bc *build.Context, dir string) error {
	r := bc.Reader(ctx, false)
	defer r.Close()
	if err := untar.Extract(r, dir); err != nil {
		return fmt.Errorf("build context: %w", err)
	}
	return nil
}
