package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/berth-go/berth/internal/tests/netstub"
	"github.com/berth-go/berth/internal/wire"
)

// searchEnv points the socket search into a fresh short directory and
// clears what names an engine.
func searchEnv(t *testing.T) string {
	t.Helper()
	dir := netstub.SearchEnv(t)
	t.Cleanup(wire.SetSearchRoot(filepath.Join(dir, "r")))
	return dir
}

const libpod = "Libpod/4.3.1 (linux)"

func TestDoctorSaysWhichSocketWasFound(t *testing.T) {
	dir := searchEnv(t)
	netstub.PingingSocket(t, filepath.Join(dir, "h/.colima/default/docker.sock"), libpod)
	netstub.PingingSocket(t, filepath.Join(dir, "x/podman/podman.sock"), libpod)
	var stdout, stderr strings.Builder
	run([]string{"doctor"}, &stdout, &stderr)
	out := stdout.String()
	assert.Contains(t, out, "engine:      unix://"+filepath.Join(dir, "h/.colima/default/docker.sock")+" (found: ~/.colima/default/docker.sock (Colima))")
	assert.Contains(t, out, "searched:    the first socket answering /_ping wins")
	assert.Regexp(t, `\n  \* ~/\.colima/default/docker\.sock +Colima +answers /_ping \(Server: Libpod/4\.3\.1 \(linux\)\)\n`, out)
	assert.Regexp(t, `\n    `+regexpQuote(filepath.Join(dir, "x/podman/podman.sock"))+` +rootless Podman +answers /_ping`, out, "a later engine is listed, unmarked")
	assert.Regexp(t, `\n    ~/\.docker/run/docker\.sock +Docker Desktop +no such file\n`, out)
	assert.Less(t, strings.Index(out, "/var/run/docker.sock"), strings.Index(out, "/run/podman/podman.sock"), "in search order")
}

func TestDoctorSaysNoSocketAnswered(t *testing.T) {
	dir := searchEnv(t)
	var stdout, stderr strings.Builder
	run([]string{"doctor"}, &stdout, &stderr)
	out := stdout.String()
	// (The default socket it then tries is the machine's, outside the
	// hidden search: its status is not this test's business.)
	assert.Contains(t, out, "engine:      unix:///var/run/docker.sock (from default)")
	assert.Contains(t, out, "searched:    no socket answered /_ping; set DOCKER_HOST or a docker context, or start an engine at one of:")
	assert.Contains(t, out, filepath.Join(dir, "r/run/podman/podman.sock"))
}

func TestDoctorOnTheRealEngineFoundBySearch(t *testing.T) {
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("DOCKER_CONTEXT", "")
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	var stdout, stderr strings.Builder
	code := run([]string{"doctor"}, &stdout, &stderr)
	out := stdout.String()
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "engine:      unix:///var/run/docker.sock (found: /var/run/docker.sock (Docker))")
	assert.Regexp(t, `\n  \* /var/run/docker\.sock +Docker +answers /_ping \(Server: Docker/`, out)
	assert.Contains(t, out, "status:      ok")
}

func regexpQuote(s string) string {
	return strings.NewReplacer(".", `\.`, "/", "/").Replace(s)
}
