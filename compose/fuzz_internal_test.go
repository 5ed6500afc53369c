package compose

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary files to the loader: an error or a project
// without a depends_on cycle, never a panic.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"app/docker-compose.yml", "volume/docker-compose.yml", "chain/docker-compose.yml",
		"bad/cycle.yml", "bad/invalid.yml", "bad/crash.yml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		file := filepath.Join(t.TempDir(), "compose.yml")
		if err := os.WriteFile(file, content, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := load(context.Background(), file, &config{})
		if err != nil {
			return
		}
		if err := checkCycles(p); err != nil {
			t.Fatalf("load returned a project with a cycle: %v", err)
		}
	})
}

// FuzzTmpfsSize: tmpfs options never give a negative size.
func FuzzTmpfsSize(f *testing.F) {
	for _, s := range []string{"size=64m", "mode=1777,size=1g", "size=", "size=9223372036854775807k", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, opts string) {
		if n := tmpfsSize(opts); n < 0 {
			t.Fatalf("tmpfsSize(%q) = %d", opts, n)
		}
	})
}
