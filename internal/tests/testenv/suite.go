//go:build !windows

package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

// SuiteModule is the module path of GoModule's modules: under berth's, so
// their tests may import berth's internal test kits (internal/tests/...).
const SuiteModule = "github.com/berth-go/berth/suite"

// GoModule writes a Go module (SuiteModule) in a temporary directory whose
// packages hold one test file each (package name → the file after its
// package clause), requiring berth through a replace of this repository,
// and returns its directory. Tests run it with GoTest to check what spans
// test binaries.
func GoModule(t testing.TB, pkgs map[string]string) string {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(self), "..", "..", "..")
	dir := t.TempDir()
	gomod := "module " + SuiteModule + "\n\ngo 1.24\n\nrequire github.com/berth-go/berth v0.0.0\n\nreplace github.com/berth-go/berth => " + root + "\n"
	write := func(path string, data []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "go.mod"), []byte(gomod))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(dir, "go.sum"), sum)
	for name, src := range pkgs {
		write(filepath.Join(dir, name, name+"_test.go"), []byte("package "+name+"\n\n"+src))
	}
	return dir
}

// GoTest is `go test args...` in dir with env added, offline (no proxy:
// the module cache has berth's dependencies), in a process group of its
// own that is killed when the test ends.
func GoTest(t testing.TB, dir string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("go", append([]string{"test"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	t.Cleanup(func() {
		if cmd.Process != nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	return cmd
}
