package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Errors of the credential-helper protocol, for errors.Is.
var (
	// ErrCredentialsNotFound is returned by Helper.Get when the helper has
	// nothing stored for the server. Keychains turn it into anonymous
	// access.
	ErrCredentialsNotFound = errors.New("credentials not found")
	// ErrHelperNotInstalled says the docker-credential-<name> program is not
	// on PATH.
	ErrHelperNotInstalled = errors.New("credential helper not installed")
)

// tokenUsername is the user name a helper stores with an identity token.
const tokenUsername = "<token>"

// helperWaitDelay bounds how long a helper's pipes may stay open after it
// exits or its ctx ends (a helper may leave a child behind).
const helperWaitDelay = 5 * time.Second

// Helper runs a docker-credential-<Name> program with the docker
// credential-helper protocol: the action is the single argument, the input
// goes to stdin, the answer comes on stdout, and a failure is a non-zero
// exit with a message on stdout or stderr.
type Helper struct {
	// Name is the helper's suffix as written in config.json, e.g. "pass",
	// "osxkeychain", "desktop".
	Name string
}

// Program returns the helper's executable name, docker-credential-<Name>.
func (h Helper) Program() string { return "docker-credential-" + h.Name }

// HelperError reports a failed helper run. Its message names the program,
// the action and the registry, and says how to run the helper by hand to
// see what it said: berth never shows a helper's output or its input,
// since a helper may print a token or password in its own error text.
type HelperError struct {
	Program string // e.g. docker-credential-pass
	Action  string // get, store, erase or list
	// ServerURL is the registry the action was about (empty for list).
	ServerURL string
	Err       error
	byHand    bool // the helper ran and failed: say how to rerun it
}

func (e *HelperError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "registry: credential helper %s %s", e.Program, e.Action)
	if e.ServerURL != "" {
		fmt.Fprintf(&b, " for %q", e.ServerURL)
	}
	b.WriteString(": ")
	if errors.Is(e.Err, ErrHelperNotInstalled) {
		fmt.Fprintf(&b, "%s is not on PATH: install it, or remove it from credsStore/credHelpers in your Docker config", e.Program)
		return b.String()
	}
	b.WriteString(e.Err.Error())
	if e.byHand {
		fmt.Fprintf(&b, "; what the helper printed is not shown (it may hold a secret): to see it, run `%s` in a shell", e.tryCommand())
	}
	return b.String()
}

func (e *HelperError) Unwrap() error { return e.Err }

// tryCommand is the shell command that repeats the failed action without
// any secret: a store is tried as a list, since its input holds one.
func (e *HelperError) tryCommand() string {
	switch e.Action {
	case "get", "erase":
		return "echo " + shellQuote(e.ServerURL) + " | " + e.Program + " " + e.Action
	}
	return e.Program + " list"
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

type helperCredentials struct {
	ServerURL string `json:"ServerURL"`
	Username  string `json:"Username"`
	Secret    string `json:"Secret"`
}

// Get asks the helper for the credentials of serverURL (an auth key such as
// HubAuthKey or "localhost:5000"). A user name of "<token>" makes the
// secret an identity token. It returns an error matching
// ErrCredentialsNotFound when the helper has none.
func (h Helper) Get(ctx context.Context, serverURL string) (AuthConfig, error) {
	out, err := h.run(ctx, "get", serverURL, []byte(serverURL))
	if err != nil {
		return AuthConfig{}, err
	}
	var c helperCredentials
	if err := json.Unmarshal(out, &c); err != nil {
		// The output may hold a secret: describe, never quote it.
		return AuthConfig{}, &HelperError{Program: h.Program(), Action: "get", ServerURL: serverURL,
			Err: fmt.Errorf("answer is not the expected JSON {ServerURL, Username, Secret} (%s)", jsonProblem(out, err))}
	}
	a := AuthConfig{ServerAddress: serverURL}
	if c.Username == tokenUsername {
		a.IdentityToken = c.Secret
	} else {
		a.Username, a.Password = c.Username, c.Secret
	}
	return a, nil
}

// Store saves a's credentials for a.ServerAddress in the helper. An
// identity token is stored with user "<token>".
func (h Helper) Store(ctx context.Context, a AuthConfig) error {
	d, err := a.decoded()
	if err != nil {
		return fmt.Errorf("registry: credential helper %s store: %w", h.Program(), err)
	}
	c := helperCredentials{ServerURL: d.ServerAddress, Username: d.Username, Secret: d.Password}
	if d.IdentityToken != "" {
		c.Username, c.Secret = tokenUsername, d.IdentityToken
	}
	if c.ServerURL == "" {
		return fmt.Errorf("registry: credential helper %s store: the AuthConfig has no ServerAddress: set it to the registry's auth key (see AuthKey)", h.Program())
	}
	in, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("registry: credential helper %s store: %w", h.Program(), err)
	}
	_, err = h.run(ctx, "store", c.ServerURL, in)
	return err
}

// Erase removes the helper's credentials for serverURL.
func (h Helper) Erase(ctx context.Context, serverURL string) error {
	_, err := h.run(ctx, "erase", serverURL, []byte(serverURL))
	return err
}

// List returns the server URLs the helper holds credentials for, mapped to
// their user names.
func (h Helper) List(ctx context.Context) (map[string]string, error) {
	out, err := h.run(ctx, "list", "", nil)
	if err != nil {
		return nil, err
	}
	list := map[string]string{}
	if len(bytes.TrimSpace(out)) == 0 {
		return list, nil
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, &HelperError{Program: h.Program(), Action: "list",
			Err: fmt.Errorf("answer is not a JSON object of server URL to user name (%s)", jsonProblem(out, err))}
	}
	return list, nil
}

// run executes the helper with input on stdin and returns its stdout. A
// failure is a *HelperError; "credentials not found" also matches
// ErrCredentialsNotFound. What the helper printed is never quoted.
func (h Helper) run(ctx context.Context, action, serverURL string, input []byte) ([]byte, error) {
	fail := func(err error) *HelperError {
		return &HelperError{Program: h.Program(), Action: action, ServerURL: serverURL, Err: err}
	}
	if h.Name == "" || strings.ContainsAny(h.Name, `/\`) {
		return nil, fail(fmt.Errorf("helper name %q is invalid: use the suffix of docker-credential-<name>", h.Name))
	}
	path, err := exec.LookPath(h.Program())
	if err != nil {
		return nil, fail(ErrHelperNotInstalled)
	}
	cmd := exec.CommandContext(ctx, path, action)
	cmd.Stdin = bytes.NewReader(input)
	stdout := &capped{max: maxHelperAnswer}
	stderr := &capped{max: maxHelperAnswer}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = helperWaitDelay
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fail(context.Cause(ctx))
		}
		msg := strings.ToLower(stderr.String() + " " + stdout.String())
		if strings.Contains(msg, "credentials not found") {
			return nil, fail(ErrCredentialsNotFound)
		}
		he := fail(err)
		he.byHand = true
		return nil, he
	}
	if stdout.over {
		return nil, fail(fmt.Errorf("answer is larger than %d bytes", maxHelperAnswer))
	}
	return stdout.Bytes(), nil
}

// maxHelperAnswer bounds what is kept of a helper's output.
const maxHelperAnswer = 1 << 20

// capped keeps the first max bytes written to it and drops the rest.
type capped struct {
	bytes.Buffer
	max  int
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); len(p) > room {
		c.over = true
		c.Buffer.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return c.Buffer.Write(p)
}
