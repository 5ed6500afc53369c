package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-go/berth/internal/wire"
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

// CheckUlimit checks a resource limit: a name, and a soft limit no
// higher than the hard one.
func CheckUlimit(u Ulimit) error {
	if u.Name == "" || u.Soft < 0 || u.Hard < 0 || u.Soft > u.Hard {
		return &SpecError{Field: "Ulimit", Value: fmt.Sprintf("%s=%d:%d", u.Name, u.Soft, u.Hard), Hint: `give a name and soft <= hard, as in Ulimit("nofile", 1024, 4096)`}
	}
	return nil
}

// CheckDevice checks a device mapping "host[:container[:permissions]]":
// absolute paths, permissions of r, w and m.
func CheckDevice(d string) error {
	parts := strings.Split(d, ":")
	bad := len(parts) > 3 || !strings.HasPrefix(parts[0], "/") ||
		len(parts) > 1 && !strings.HasPrefix(parts[1], "/") ||
		len(parts) > 2 && (parts[2] == "" || strings.Trim(parts[2], "rwm") != "")
	if bad {
		return &SpecError{Field: "Device", Value: d, Hint: `use "/dev/host[:/dev/container[:rwm]]", as in "/dev/fuse"`}
	}
	return nil
}

// deviceMapping is a checked device string as the engine takes it.
func deviceMapping(d string) wire.DeviceMapping {
	parts := strings.Split(d, ":")
	m := wire.DeviceMapping{PathOnHost: parts[0], PathInContainer: parts[0], CgroupPermissions: "rwm"}
	if len(parts) > 1 {
		m.PathInContainer = parts[1]
	}
	if len(parts) > 2 {
		m.CgroupPermissions = parts[2]
	}
	return m
}

// CheckExtraHost checks an /etc/hosts entry "name:ip" (ip may be
// "host-gateway").
func CheckExtraHost(entry string) error {
	if i := strings.Index(entry, ":"); i <= 0 || i == len(entry)-1 {
		return &SpecError{Field: "ExtraHost", Value: entry, Hint: `give both a host name and an IP: "db.local:10.0.0.5" or "host.docker.internal:host-gateway"`}
	}
	return nil
}
