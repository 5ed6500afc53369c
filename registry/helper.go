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
	"unicode"
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
// the action and what the helper said; it never contains the helper's
// input, and output that may hold credentials is withheld.
type HelperError struct {
	Program string // e.g. docker-credential-pass
	Action  string // get, store, erase or list
	// ServerURL is the registry the action was about (empty for list).
	ServerURL string
	// Output is the helper's sanitised message, possibly empty.
	Output string
	Err    error
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
	if e.Output != "" {
		fmt.Fprintf(&b, ": %s", e.Output)
	}
	return b.String()
}

func (e *HelperError) Unwrap() error { return e.Err }

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
	out, err := h.run(ctx, "get", serverURL, []byte(serverURL), nil)
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
	_, err = h.run(ctx, "store", c.ServerURL, in, []string{c.Secret, d.Password, d.IdentityToken, a.Auth})
	return err
}

// Erase removes the helper's credentials for serverURL.
func (h Helper) Erase(ctx context.Context, serverURL string) error {
	_, err := h.run(ctx, "erase", serverURL, []byte(serverURL), nil)
	return err
}

// List returns the server URLs the helper holds credentials for, mapped to
// their user names.
func (h Helper) List(ctx context.Context) (map[string]string, error) {
	out, err := h.run(ctx, "list", "", nil, nil)
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
// ErrCredentialsNotFound. secrets are scrubbed from any output quoted in an
// error.
func (h Helper) run(ctx context.Context, action, serverURL string, input []byte, secrets []string) ([]byte, error) {
	fail := func(err error, output string) error {
		return &HelperError{Program: h.Program(), Action: action, ServerURL: serverURL, Output: output, Err: err}
	}
	if h.Name == "" || strings.ContainsAny(h.Name, `/\`) {
		return nil, fail(fmt.Errorf("helper name %q is invalid: use the suffix of docker-credential-<name>", h.Name), "")
	}
	path, err := exec.LookPath(h.Program())
	if err != nil {
		return nil, fail(ErrHelperNotInstalled, "")
	}
	cmd := exec.CommandContext(ctx, path, action)
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = helperWaitDelay
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fail(context.Cause(ctx), "")
		}
		msg := strings.TrimSpace(stdout.String())
		if m := strings.TrimSpace(stderr.String()); m != "" {
			msg = strings.TrimSpace(m + " " + msg)
		}
		if strings.Contains(strings.ToLower(msg), "credentials not found") {
			return nil, fail(ErrCredentialsNotFound, "")
		}
		return nil, fail(err, sanitizeHelperOutput(msg, secrets))
	}
	return stdout.Bytes(), nil
}

// maxHelperOutput bounds how much of a helper's message an error quotes.
const maxHelperOutput = 512

// sanitizeHelperOutput makes a helper's failure message safe to show: known
// secrets are replaced, output that looks like it carries credentials is
// withheld, control characters are dropped and the length is capped.
func sanitizeHelperOutput(msg string, secrets []string) string {
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	lower := strings.ToLower(msg)
	for _, w := range []string{`"secret"`, `"password"`, `"identitytoken"`, `"auth"`} {
		if strings.Contains(lower, w) {
			return "(output withheld: it may contain credentials)"
		}
	}
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, msg)
	if len(msg) > maxHelperOutput {
		msg = strings.ToValidUTF8(msg[:maxHelperOutput], "") + "..."
	}
	return msg
}
