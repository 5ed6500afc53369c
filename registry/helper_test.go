package registry

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testHelperName is the credential helper the tests build:
// docker-credential-berthtest.
const testHelperName = "berthtest"

// testHelperSource is a real credential helper speaking the docker protocol.
// It keeps credentials in the JSON file named by BERTH_TEST_HELPER_STORE and
// appends "action serverURL" lines (never secrets) to BERTH_TEST_HELPER_LOG.
// BERTH_TEST_HELPER_MODE makes it misbehave: "fail" (message on stderr,
// exit 3), "echo" (prints its stdin in the failure message, like a careless
// helper), "leak" (prints a token of its own in its error text), "garbage" (answers get with broken JSON holding a secret),
// "sleep" (hangs).
const testHelperSource = `package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

type creds struct {
	ServerURL string
	Username  string
	Secret    string
}

func main() {
	if len(os.Args) != 2 {
		fmt.Println("usage: docker-credential-berthtest get|store|erase|list")
		os.Exit(1)
	}
	action := os.Args[1]
	in, _ := io.ReadAll(os.Stdin)
	switch os.Getenv("BERTH_TEST_HELPER_MODE") {
	case "fail":
		fmt.Fprintln(os.Stderr, "gpg: decryption failed: No secret key")
		os.Exit(3)
	case "leak":
		fmt.Fprintln(os.Stderr, "error: refresh of token "+os.Getenv("BERTH_TEST_HELPER_GARBAGE")+" failed")
		fmt.Println("token=" + os.Getenv("BERTH_TEST_HELPER_GARBAGE"))
		os.Exit(1)
	case "echo":
		fmt.Printf("cannot %s %s\n", action, in)
		os.Exit(1)
	case "garbage":
		fmt.Print("{\"Username\":\"u\",\"Secret\":\"" + os.Getenv("BERTH_TEST_HELPER_GARBAGE") + "\"")
		return
	case "sleep":
		time.Sleep(time.Minute)
	}
	path := os.Getenv("BERTH_TEST_HELPER_STORE")
	db := map[string]creds{}
	if data, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(data, &db); err != nil {
			fmt.Println("store is corrupt")
			os.Exit(1)
		}
	}
	save := func() {
		data, _ := json.Marshal(db)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			fmt.Println("cannot save store")
			os.Exit(1)
		}
	}
	logCall := func(server string) {
		if p := os.Getenv("BERTH_TEST_HELPER_LOG"); p != "" {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
			if err == nil {
				fmt.Fprintf(f, "%s %s\n", action, server)
				f.Close()
			}
		}
	}
	switch action {
	case "get":
		server := strings.TrimSpace(string(in))
		logCall(server)
		c, ok := db[server]
		if !ok {
			fmt.Println("credentials not found in native keychain")
			os.Exit(1)
		}
		json.NewEncoder(os.Stdout).Encode(c)
	case "store":
		var c creds
		if err := json.Unmarshal(in, &c); err != nil || c.ServerURL == "" {
			fmt.Println("bad store input")
			os.Exit(1)
		}
		logCall(c.ServerURL)
		db[c.ServerURL] = c
		save()
	case "erase":
		server := strings.TrimSpace(string(in))
		logCall(server)
		if _, ok := db[server]; !ok {
			fmt.Println("credentials not found in native keychain")
			os.Exit(1)
		}
		delete(db, server)
		save()
	case "list":
		logCall("")
		out := map[string]string{}
		for k, c := range db {
			out[k] = c.Username
		}
		json.NewEncoder(os.Stdout).Encode(out)
	default:
		fmt.Println("unknown action")
		os.Exit(1)
	}
}
`

var (
	helperBuild    sync.Once
	helperBinDir   string
	helperBuildErr error
)

// buildTestHelper compiles testHelperSource once per test binary and
// returns the directory holding docker-credential-berthtest.
func buildTestHelper(t *testing.T) string {
	t.Helper()
	helperBuild.Do(func() {
		dir, err := os.MkdirTemp("", "berth-credhelper-")
		if err != nil {
			helperBuildErr = err
			return
		}
		helperBinDir = dir
		src := filepath.Join(dir, "main.go")
		if err := os.WriteFile(src, []byte(testHelperSource), 0o600); err != nil {
			helperBuildErr = err
			return
		}
		goBin, err := exec.LookPath("go")
		if err != nil {
			helperBuildErr = err
			return
		}
		cmd := exec.Command(goBin, "build", "-o", filepath.Join(dir, "docker-credential-"+testHelperName), "main.go")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOFLAGS=-buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			helperBuildErr = errors.New(err.Error() + ": " + string(out))
		}
	})
	require.NoError(t, helperBuildErr, "building the test credential helper")
	return helperBinDir
}

// testHelperEnv is the store and call log of the test helper for one test.
type testHelperEnv struct {
	store, log string
}

// useTestHelper puts the test helper on PATH with an empty store seeded
// with creds (keyed by server URL) and returns its files.
func useTestHelper(t *testing.T, creds map[string]helperCredentials) testHelperEnv {
	t.Helper()
	bin := buildTestHelper(t)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	dir := t.TempDir()
	env := testHelperEnv{store: filepath.Join(dir, "store.json"), log: filepath.Join(dir, "calls.log")}
	t.Setenv("BERTH_TEST_HELPER_STORE", env.store)
	t.Setenv("BERTH_TEST_HELPER_LOG", env.log)
	t.Setenv("BERTH_TEST_HELPER_MODE", "")
	if creds != nil {
		data, err := json.Marshal(creds)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(env.store, data, 0o600))
	}
	return env
}

// calls returns the helper invocations so far, e.g. "get localhost:5000".
func (e testHelperEnv) calls(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(e.log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func TestHelperProtocol(t *testing.T) {
	ctx := t.Context()
	env := useTestHelper(t, nil)
	h := Helper{Name: testHelperName}
	assert.Equal(t, "docker-credential-berthtest", h.Program())

	_, err := h.Get(ctx, "localhost:5000")
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrCredentialsNotFound)

	require.NoError(t, h.Store(ctx, AuthConfig{ServerAddress: "localhost:5000", Username: "ci", Password: testPassword}))
	require.NoError(t, h.Store(ctx, AuthConfig{ServerAddress: HubAuthKey, IdentityToken: testIdentityToken}))
	require.NoError(t, h.Store(ctx, AuthConfig{ServerAddress: "ghcr.io", Auth: basicAuth("gh", "gh-pass")}))

	var stored map[string]helperCredentials
	data, err := os.ReadFile(env.store)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &stored))
	assert.Equal(t, helperCredentials{ServerURL: HubAuthKey, Username: "<token>", Secret: testIdentityToken}, stored[HubAuthKey],
		"an identity token is stored with user <token>")
	assert.Equal(t, helperCredentials{ServerURL: "ghcr.io", Username: "gh", Secret: "gh-pass"}, stored["ghcr.io"],
		"an auth field is stored decoded")

	got, err := h.Get(ctx, "localhost:5000")
	require.NoError(t, err)
	assert.Equal(t, AuthConfig{ServerAddress: "localhost:5000", Username: "ci", Password: testPassword}, got)

	got, err = h.Get(ctx, HubAuthKey)
	require.NoError(t, err)
	assert.Equal(t, AuthConfig{ServerAddress: HubAuthKey, IdentityToken: testIdentityToken}, got,
		"user <token> makes the secret an identity token")

	list, err := h.List(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"localhost:5000": "ci", HubAuthKey: "<token>", "ghcr.io": "gh"}, list)

	require.NoError(t, h.Erase(ctx, "localhost:5000"))
	_, err = h.Get(ctx, "localhost:5000")
	assert.ErrorIs(t, err, ErrCredentialsNotFound)
	err = h.Erase(ctx, "localhost:5000")
	assert.ErrorIs(t, err, ErrCredentialsNotFound)

	assert.Equal(t, []string{
		"get localhost:5000", "store localhost:5000", "store " + HubAuthKey, "store ghcr.io",
		"get localhost:5000", "get " + HubAuthKey, "list ", "erase localhost:5000", "get localhost:5000", "erase localhost:5000",
	}, env.calls(t))
}

func TestHelperStoreNeedsServerAddress(t *testing.T) {
	useTestHelper(t, nil)
	err := Helper{Name: testHelperName}.Store(t.Context(), AuthConfig{Username: "ci", Password: testPassword})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no ServerAddress")
	assertNoSecret(t, err.Error())
}

func TestHelperFailures(t *testing.T) {
	tests := []struct {
		name     string
		helper   string
		mode     string
		run      func(ctx context.Context, h Helper) error
		is       error
		contains []string
		absent   []string
	}{
		{
			name: "not installed", helper: "berth-missing-helper",
			run:      func(ctx context.Context, h Helper) error { _, err := h.Get(ctx, "localhost:5000"); return err },
			is:       ErrHelperNotInstalled,
			contains: []string{"docker-credential-berth-missing-helper", "not on PATH", "install it", "credsStore/credHelpers"},
		},
		{
			name: "invalid name", helper: "../evil",
			run:      func(ctx context.Context, h Helper) error { _, err := h.Get(ctx, "localhost:5000"); return err },
			contains: []string{"invalid"},
		},
		{
			name: "helper error", helper: testHelperName, mode: "fail",
			run:      func(ctx context.Context, h Helper) error { _, err := h.Get(ctx, "localhost:5000"); return err },
			contains: []string{"docker-credential-berthtest get", `"localhost:5000"`, "exit status 3", "is not shown", "run `echo localhost:5000 | docker-credential-berthtest get` in a shell"},
			absent:   []string{"gpg: decryption failed"},
		},
		{
			name: "helper prints its token in its error", helper: testHelperName, mode: "leak",
			run: func(ctx context.Context, h Helper) error {
				_, err := h.Get(ctx, "https://index.docker.io/v1/")
				return err
			},
			contains: []string{"docker-credential-berthtest get", "echo https://index.docker.io/v1/ | docker-credential-berthtest get"},
			absent:   []string{"refresh"},
		},
		{
			name: "helper prints its token on a list", helper: testHelperName, mode: "leak",
			run:      func(ctx context.Context, h Helper) error { _, err := h.List(ctx); return err },
			contains: []string{"run `docker-credential-berthtest list`"},
		},
		{
			name: "careless helper echoes its input", helper: testHelperName, mode: "echo",
			run: func(ctx context.Context, h Helper) error {
				return h.Store(ctx, AuthConfig{ServerAddress: "localhost:5000", Username: "ci", Password: testPassword})
			},
			contains: []string{"docker-credential-berthtest store", "run `docker-credential-berthtest list`"},
		},
		{
			name: "careless helper echoes a token", helper: testHelperName, mode: "echo",
			run: func(ctx context.Context, h Helper) error {
				return h.Store(ctx, AuthConfig{ServerAddress: "localhost:5000", IdentityToken: testIdentityToken})
			},
			contains: []string{"docker-credential-berthtest store"},
		},
		{
			name: "broken answer", helper: testHelperName, mode: "garbage",
			run:      func(ctx context.Context, h Helper) error { _, err := h.Get(ctx, "localhost:5000"); return err },
			contains: []string{"not the expected JSON", "line 1"},
		},
		{
			name: "broken list", helper: testHelperName, mode: "garbage",
			run:      func(ctx context.Context, h Helper) error { _, err := h.List(ctx); return err },
			contains: []string{"list", "not a JSON object"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			useTestHelper(t, nil)
			t.Setenv("BERTH_TEST_HELPER_MODE", tt.mode)
			t.Setenv("BERTH_TEST_HELPER_GARBAGE", testPassword)
			err := tt.run(t.Context(), Helper{Name: tt.helper})
			require.Error(t, err)
			var he *HelperError
			require.True(t, errors.As(err, &he), "want *HelperError, got %T: %v", err, err)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			assert.NotErrorIs(t, err, ErrCredentialsNotFound)
			for _, c := range tt.contains {
				assert.Contains(t, err.Error(), c)
			}
			for _, c := range tt.absent {
				assert.NotContains(t, err.Error(), c)
			}
			assertNoSecret(t, err.Error())
		})
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"localhost:5000":              "localhost:5000",
		"https://index.docker.io/v1/": "https://index.docker.io/v1/",
		"a b":                         "'a b'",
		"it's":                        `'it'\''s'`,
		"$(rm -rf /)":                 "'$(rm -rf /)'",
		"":                            "''",
	} {
		assert.Equal(t, want, shellQuote(in))
	}
}

func TestHelperHonoursContext(t *testing.T) {
	useTestHelper(t, nil)
	t.Setenv("BERTH_TEST_HELPER_MODE", "sleep")
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Helper{Name: testHelperName}.Get(ctx, "localhost:5000")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 10*time.Second, "a hung helper must not outlive ctx")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if helperBinDir != "" {
		_ = os.RemoveAll(helperBinDir)
	}
	os.Exit(code)
}
