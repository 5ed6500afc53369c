package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A password in DOCKER_HOST's userinfo is never printed by doctor or
// prune, whatever happens.
func TestCommandsNeverPrintHostPassword(t *testing.T) {
	const pw = "s3cr3t-cli-host-pw"
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	for _, host := range []string{
		"tcp://bob:" + pw + "@127.0.0.1:1", // unreachable
		"ssh://bob:" + pw + "@127.0.0.1:1", // ssh: the password is dropped
		"tcp://bob:" + pw + "@[::1",        // not a URL
	} {
		t.Setenv("DOCKER_HOST", host)
		for _, args := range [][]string{{"doctor"}, {"prune", "-dry-run"}} {
			var stdout, stderr strings.Builder
			code := run(args, &stdout, &stderr)
			out := stdout.String() + stderr.String()
			assert.Equal(t, 1, code, out)
			assert.NotContains(t, out, pw, "%s %v", host, args)
			assert.NotEmpty(t, out)
		}
	}
	t.Setenv("DOCKER_HOST", "tcp://bob:"+pw+"@127.0.0.1:1")
	var stdout strings.Builder
	run([]string{"doctor"}, &stdout, &stdout)
	assert.Contains(t, stdout.String(), "tcp://bob:xxxxx@127.0.0.1:1")
}

// berth doctor names a failing credential helper and how to run it by
// hand, and never echoes what the helper printed: a helper may put its
// token in its own error text.
func TestDoctorNeverEchoesHelperOutput(t *testing.T) {
	const token = "ghp_s3cr3tHelperToken"
	bin := t.TempDir()
	script := "#!/bin/sh\necho \"error: refresh of token " + token + " failed\" >&2\necho \"token=" + token + "\"\nexit 1\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "docker-credential-leaky"), []byte(script), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	cfg := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"credsStore":"leaky"}`), 0o600))
	t.Setenv("DOCKER_CONFIG", cfg)
	t.Setenv("DOCKER_AUTH_CONFIG", "")
	t.Setenv("DOCKER_HOST", "") // the real engine

	var stdout, stderr strings.Builder
	run([]string{"doctor", "-registry", "localhost:5000"}, &stdout, &stderr)
	out := stdout.String() + stderr.String()
	assert.Contains(t, out, "docker-credential-leaky get")
	assert.Contains(t, out, "echo localhost:5000 | docker-credential-leaky get")
	assert.NotContains(t, out, token)
	assert.NotContains(t, out, "refresh")
}
