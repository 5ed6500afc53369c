package berth_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/internal/tests/testenv"
	"github.com/berth-go/berth/wait"
)

// Bad input to a builder call and the same value in a Spec are judged by
// one check: the same typed error, naming the call once.
func TestBuilderAndSpecShareEachFieldCheck(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	file := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	const img = "busybox:1.36"
	tests := []struct {
		name    string
		builder func() *berth.ContainerBuilder
		spec    container.Spec
		want    string
	}{
		{"env with NUL", func() *berth.ContainerBuilder { return h.Container(img).Env("A\x00B", "1") },
			container.Spec{Image: img, Env: map[string]string{"A\x00B": "1"}}, `Env("A\x00B"): a variable name must be non-empty and contain no '=' or NUL`},
		{"env with =", func() *berth.ContainerBuilder { return h.Container(img).Env("A=B", "1") },
			container.Spec{Image: img, Env: map[string]string{"A=B": "1"}}, `Env("A=B"): a variable name`},
		{"relative bind source", func() *berth.ContainerBuilder { return h.Container(img).BindMount("testdata", "/x", true) },
			container.Spec{Image: img, Mounts: []container.Mount{{Type: container.MountBind, Source: "testdata", Target: "/x"}}}, `BindMount("testdata"): the host path must be absolute`},
		{"missing bind source", func() *berth.ContainerBuilder { return h.Container(img).BindMount("/does/not/exist", "/x", true) },
			container.Spec{Image: img, Mounts: []container.Mount{{Type: container.MountBind, Source: "/does/not/exist", Target: "/x"}}}, `BindMount("/does/not/exist"): the host path does not exist`},
		{"extra host without IP", func() *berth.ContainerBuilder { return h.Container(img).ExtraHost("db.local", "") },
			container.Spec{Image: img, ExtraHosts: []string{"db.local:"}}, `ExtraHost("db.local:"): give both a host name and an IP`},
		{"missing file", func() *berth.ContainerBuilder { return h.Container(img).File(file+".absent", "/f") },
			container.Spec{Image: img, Files: []container.File{{HostPath: file + ".absent", Target: "/f"}}}, `File("` + file + `.absent"): the host file does not exist`},
		{"port with a host IP that is not one", func() *berth.ContainerBuilder { return h.Container(img).Port("1:2:3") },
			container.Spec{Image: img, Ports: []string{"1:2:3"}}, `Port("1:2:3"): the host IP must be an IP address`},
		{"bad port", func() *berth.ContainerBuilder { return h.Container(img).Port("abc") },
			container.Spec{Image: img, Ports: []string{"abc"}}, `Port("abc"): container port must be a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.builder().StartE(t.Context())
			require.Error(t, err)
			var se *container.SpecError
			require.True(t, errors.As(err, &se), "a *container.SpecError: %v", err)
			assert.True(t, strings.HasPrefix(err.Error(), tt.want), "builder: %q, want it to start with %q", err, tt.want)
			field := se.Field
			assert.Equal(t, 1, strings.Count(err.Error(), field+"("), "the call is named once: %q", err)

			serr := tt.spec.Validate()
			require.Error(t, serr)
			assert.ErrorIs(t, serr, container.ErrInvalidSpec)
			assert.Equal(t, err.Error(), serr.Error(), "the Spec is judged like the builder call")
		})
	}
	for _, ok := range []string{"127.0.0.1:15432:5432", "[::1]:15433:5432/tcp", "15434:5432", "5432"} {
		_, err := container.ParsePort(ok)
		assert.NoError(t, err, ok)
	}
}

// A wait that probes a port through the host, on a container that does
// not publish it, is refused before anything is created: it could only
// time out.
func TestWaitOnUnpublishedPortIsRefused(t *testing.T) {
	t.Parallel()
	h := berth.New(t)
	for name, s := range map[string]wait.Strategy{
		"ForHTTP":      wait.ForHTTP("/").Port("8080/tcp"),
		"All(ForHTTP)": wait.All(wait.ForLog("up"), wait.ForHTTP("/").Port("8080")),
	} {
		start := time.Now()
		_, err := h.Container(busybox).Cmd("sleep", "60").Port("9090/tcp").WaitFor(s).StartE(t.Context())
		require.Error(t, err, name)
		var se *container.SpecError
		require.True(t, errors.As(err, &se), "%s: %v", name, err)
		assert.Contains(t, err.Error(), "the container does not publish it", name)
		assert.Less(t, time.Since(start), 5*time.Second, "%s: refused before create, not after a start", name)
	}
	assert.Empty(t, testenv.Left(t, h.Engine(), h.Session().ID(), t.Name()), "nothing was created")
	// Published, or a wait that also looks inside, is fine.
	spec := container.Spec{Image: busybox, Ports: []string{"8080/tcp"}, WaitFor: wait.ForHTTP("/").Port("8080")}
	assert.NoError(t, spec.Validate())
	spec = container.Spec{Image: busybox, WaitFor: wait.ForListeningPort("8080/tcp")}
	assert.NoError(t, spec.Validate())
	spec = container.Spec{Image: busybox, WaitFor: wait.Any(wait.ForLog("up"), wait.ForHTTP("/").Port("8080"))}
	assert.NoError(t, spec.Validate())
}
