package container

import (
	"strings"
	"testing"
)

func TestCommandProblem(t *testing.T) {
	tests := []struct {
		name, msg, command, problem string
	}{
		{"runc PATH", `failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "no-such-binary": executable file not found in $PATH: unknown`, "no-such-binary", problemNotInPath},
		{"runc no file", `OCI runtime create failed: runc create failed: unable to start container process: exec: "/no/such": stat /no/such: no such file or directory: unknown`, "/no/such", problemNoFile},
		{"runc not executable", `OCI runtime create failed: runc create failed: unable to start container process: exec: "/etc/passwd": permission denied: unknown`, "/etc/passwd", problemNotExecutable},
		{"crun PATH", "crun: executable file `no-such-binary` not found in $PATH: No such file or directory: OCI runtime attempted to invoke a command that was not found", "no-such-binary", problemNotInPath},
		{"crun no file", "crun: /no/such: No such file or directory: OCI runtime attempted to invoke a command that was not found", "/no/such", problemNoFile},
		{"crun not executable", "crun: /etc/passwd: Permission denied: OCI permission denied", "/etc/passwd", problemNotExecutable},
		{"other", `driver failed programming external connectivity: Bind for 0.0.0.0:80 failed: port is already allocated`, "", ""},
		{"a bind mount, not the command", `error mounting "/x" to rootfs at "/y": stat /x: no such file or directory: unknown`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			command, problem, ok := commandProblem(tt.msg)
			if ok != (tt.command != "") || command != tt.command || problem != tt.problem {
				t.Errorf("commandProblem = %q, %q, %v; want %q, %q", command, problem, ok, tt.command, tt.problem)
			}
		})
	}
}

// The engine's error text is outside input: reading it never panics and
// names only a program that the text names.
func FuzzCommandProblem(f *testing.F) {
	f.Add(`exec: "x": executable file not found in $PATH: unknown`)
	f.Add(`exec: "/x": stat /x: no such file or directory`)
	f.Add("crun: executable file `x` not found in $PATH: No such file or directory")
	f.Add("crun: /x: No such file or directory: OCI runtime attempted to invoke a command that was not found")
	f.Fuzz(func(t *testing.T, msg string) {
		command, problem, ok := commandProblem(msg)
		if !ok {
			return
		}
		if !strings.Contains(msg, command) || problem == "" {
			t.Fatalf("commandProblem(%q) = %q, %q", msg, command, problem)
		}
	})
}
