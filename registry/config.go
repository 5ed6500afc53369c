package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// EnvAuthConfig is the environment variable that may hold config.json
// content; its credentials come before the config file's.
const EnvAuthConfig = "DOCKER_AUTH_CONFIG"

// ErrInvalidConfig is matched (errors.Is) by every *ConfigError.
var ErrInvalidConfig = errors.New("invalid docker config")

// ConfigError says that a Docker config (a config.json file or the
// DOCKER_AUTH_CONFIG variable) cannot be used. It names the file or variable
// and the problem, never the content.
type ConfigError struct {
	// Origin is the config file path or "DOCKER_AUTH_CONFIG".
	Origin string
	// Problem describes what is wrong, e.g. "invalid JSON at line 3, column 7".
	Problem string
	// Err is the underlying error, if it is safe to show (nil for JSON
	// syntax errors, whose text may quote the content).
	Err error
}

func (e *ConfigError) Error() string {
	fix := "fix or remove the file"
	if e.Origin == EnvAuthConfig {
		fix = "fix or unset the variable"
	}
	return fmt.Sprintf("registry: docker config %s: %s: %s", e.Origin, e.Problem, fix)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// Is makes every ConfigError match ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// dockerConfig is the part of config.json that concerns credentials.
type dockerConfig struct {
	Auths       map[string]AuthConfig `json:"auths"`
	CredsStore  string                `json:"credsStore"`
	CredHelpers map[string]string     `json:"credHelpers"`

	origin string // file path or EnvAuthConfig
}

// ConfigPath returns the config.json that DefaultKeychain reads:
// $DOCKER_CONFIG/config.json, else ~/.docker/config.json. It returns ""
// when neither DOCKER_CONFIG nor a home directory is known.
func ConfigPath() string {
	if dir := os.Getenv("DOCKER_CONFIG"); dir != "" {
		return filepath.Join(dir, "config.json")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".docker", "config.json")
}

// loadConfigFile reads path; a missing file is an empty config.
func loadConfigFile(path string) (*dockerConfig, error) {
	if path == "" {
		return &dockerConfig{}, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &dockerConfig{origin: path}, nil
	}
	if err != nil {
		return nil, &ConfigError{Origin: path, Problem: "cannot be read (" + pathErrorReason(err) + ")", Err: err}
	}
	return parseConfig(data, path)
}

func pathErrorReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// parseConfig parses config.json content. Errors describe the JSON problem
// by position and type only, so no byte of the content (which holds
// secrets) reaches a message.
func parseConfig(data []byte, origin string) (*dockerConfig, error) {
	cfg := &dockerConfig{origin: origin}
	if len(bytes.TrimSpace(data)) == 0 {
		return cfg, nil // the CLI accepts an empty file
	}
	if err := json.Unmarshal(data, cfg); err != nil {
		// Err stays nil: encoding/json's message may quote the content.
		return nil, &ConfigError{Origin: origin, Problem: jsonProblem(data, err)}
	}
	for key, a := range cfg.Auths {
		d, err := a.decoded()
		if err != nil {
			return nil, &ConfigError{Origin: origin, Problem: fmt.Sprintf("auths[%q].auth: %v", key, err), Err: err}
		}
		if d.ServerAddress == "" {
			d.ServerAddress = key
		}
		cfg.Auths[key] = d
	}
	return cfg, nil
}

// jsonProblem describes a JSON decoding error without quoting the input:
// encoding/json's syntax errors name the offending character, which could
// be part of a secret.
func jsonProblem(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(data, se.Offset)
		return fmt.Sprintf("invalid JSON at line %d, column %d (byte %d)", line, col, se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "the top level"
		}
		line, col := lineCol(data, te.Offset)
		return fmt.Sprintf("invalid JSON at line %d, column %d: %s must not be a JSON %s", line, col, field, te.Value)
	}
	return "invalid JSON"
}

func lineCol(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}

// lookupKey finds the map key matching an auth key. An exact match wins;
// otherwise keys written as URLs or with other Docker Hub names are
// normalised with AuthKey, taking the first in sorted order so the choice
// is stable.
func lookupKey[V any](m map[string]V, key string) (string, bool) {
	if _, ok := m[key]; ok {
		return key, true
	}
	keys := slices.Sorted(maps.Keys(m))
	for _, k := range keys {
		if AuthKey(k) == key {
			return k, true
		}
	}
	return "", false
}
