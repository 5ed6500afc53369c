//go:build !mutation

// Needs an engine: left out of mutation runs (scripts/mutation.sh).

package build

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/internal/tests/testenv"
)

// The input hash covers the ids of secrets and ssh agents, never their
// values, files or sockets: adding, removing or renaming one is another
// build, a new value is not.
func TestInputHashSecretAndSSHIDs(t *testing.T) {
	t.Parallel()
	c := testenv.Engine(t)
	bc := FilesContext(map[string][]byte{"Dockerfile": []byte("FROM scratch\n")})
	hash := func(o Options) string {
		t.Helper()
		h, err := inputHash(t.Context(), c, bc, o, "buildkit")
		require.NoError(t, err)
		return h
	}
	none := hash(Options{})
	token := hash(Options{Secrets: map[string]Secret{"token": {File: "/a"}}})
	assert.NotEqual(t, none, token, "adding a secret")
	assert.Equal(t, token, hash(Options{Secrets: map[string]Secret{"token": {File: "/b"}}}), "another file for the same id")
	assert.Equal(t, token, hash(Options{Secrets: map[string]Secret{"token": {Env: "TOKEN"}}}), "an env variable for the same id")
	assert.NotEqual(t, token, hash(Options{Secrets: map[string]Secret{"npmrc": {File: "/a"}}}), "another id")
	assert.NotEqual(t, token, hash(Options{Secrets: map[string]Secret{"token": {File: "/a"}, "npmrc": {File: "/a"}}}), "one more secret")

	deploy := hash(Options{SSH: map[string][]string{"deploy": {"/k1"}}})
	assert.NotEqual(t, none, deploy, "adding an ssh agent")
	assert.Equal(t, deploy, hash(Options{SSH: map[string][]string{"deploy": {"/k2", "/k3"}}}), "other keys for the same id")
	assert.Equal(t, deploy, hash(Options{SSH: map[string][]string{"deploy": nil}}), "$SSH_AUTH_SOCK for the same id")
	assert.NotEqual(t, deploy, hash(Options{SSH: map[string][]string{"default": nil}}), "another id")
	assert.NotEqual(t, token, deploy, "a secret id is not an ssh id")
}
