package container

import (
	"os"
	"path/filepath"
	"strings"
)

// The checks of one field each, shared by Spec.Validate and the builders
// that fill a Spec, so a value is judged the same way wherever it comes
// in. Each returns a *SpecError naming the builder call.

// CheckEnvName checks an environment variable name: not empty, no '=',
// no NUL (the engine cannot pass either).
func CheckEnvName(name string) error {
	if name == "" || strings.ContainsAny(name, "=\x00") {
		return &SpecError{Field: "Env", Value: name, Hint: "a variable name must be non-empty and contain no '=' or NUL"}
	}
	return nil
}

// CheckBindSource checks the host side of a bind mount: an absolute path
// that exists.
func CheckBindSource(path string) error {
	if !filepath.IsAbs(path) {
		return &SpecError{Field: "BindMount", Value: path, Hint: "the host path must be absolute: use filepath.Abs, e.g. on \"testdata/x\""}
	}
	if _, err := os.Stat(path); err != nil {
		return &SpecError{Field: "BindMount", Value: path, Hint: "the host path does not exist: create it or fix the path"}
	}
	return nil
}

// CheckTarget checks a path inside the container (a mount's or a file's
// target) of the given field: absolute.
func CheckTarget(field, path string) error {
	if !strings.HasPrefix(path, "/") {
		return &SpecError{Field: field, Value: path, Hint: "the target must be an absolute path inside the container"}
	}
	return nil
}

// CheckHostFile checks a host file to copy in: it exists.
func CheckHostFile(path string) error {
	if _, err := os.Stat(path); err != nil {
		return &SpecError{Field: "File", Value: path, Hint: "the host file does not exist"}
	}
	return nil
}

// CheckExtraHost checks an /etc/hosts entry "name:ip" (ip may be
// "host-gateway").
func CheckExtraHost(entry string) error {
	if i := strings.Index(entry, ":"); i <= 0 || i == len(entry)-1 {
		return &SpecError{Field: "ExtraHost", Value: entry, Hint: `give both a host name and an IP: "db.local:10.0.0.5" or "host.docker.internal:host-gateway"`}
	}
	return nil
}
