package container

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrCommandNotFound is matched by a start that failed because the
// container's command is not in the image: not on its PATH, or no file at
// the path given.
var ErrCommandNotFound = errors.New("command not found in the image")

// CommandError reports a container whose command the runtime could not
// execute. Err is the engine's answer (the OCI runtime's text).
type CommandError struct {
	// Command is the program the runtime tried to execute: the first word
	// of Entrypoint, else of Cmd.
	Command string
	// Entrypoint and Cmd as the container was created (the image's where
	// the spec set none).
	Entrypoint []string
	Cmd        []string
	// FromImage names what came from the image: "Entrypoint", "Cmd".
	FromImage []string
	// Problem is one of "is not in the image's PATH", "does not exist in
	// the image", "is not executable".
	Problem string
	// Exec is set for a command of Exec, not the container's own: Cmd is
	// then the exec's command.
	Exec bool
	Err  error
}

// Problems a CommandError names.
const (
	problemNotInPath     = "is not in the image's PATH"
	problemNoFile        = "does not exist in the image"
	problemNotExecutable = "is not executable"
)

func (e *CommandError) Error() string {
	if e.Exec {
		what := "give the full path of the program, or use an image that has it"
		if e.Problem == problemNotExecutable {
			what = "make the file executable in the image (chmod +x) or run it through its interpreter"
		}
		return fmt.Sprintf("exec %s: the command %q %s: %s: %v", quoteArgs(e.Cmd), e.Command, e.Problem, what, e.Err)
	}
	var used []string
	if len(e.Entrypoint) > 0 {
		used = append(used, "Entrypoint "+quoteArgs(e.Entrypoint)+e.origin("Entrypoint"))
	}
	if len(e.Cmd) > 0 {
		used = append(used, "Cmd "+quoteArgs(e.Cmd)+e.origin("Cmd"))
	}
	what := "check Cmd and Entrypoint, give the full path of the program, or use an image that has it"
	switch e.Problem {
	case problemNoFile:
		what = "check Cmd, Entrypoint and the path, or use an image that has the program"
	case problemNotExecutable:
		what = "check Cmd and Entrypoint, or make the file executable in the image (chmod +x)"
	}
	return fmt.Sprintf("the container's command %q %s (%s): %s: %v", e.Command, e.Problem, strings.Join(used, ", "), what, e.Err)
}

func (e *CommandError) origin(field string) string {
	for _, f := range e.FromImage {
		if f == field {
			return " from the image"
		}
	}
	return ""
}

func (e *CommandError) Unwrap() error { return e.Err }

// Permanent tells waits that trying again cannot help: wait.ForExec fails
// at once on a command the image does not have.
func (e *CommandError) Permanent() bool { return true }

// Is makes a CommandError about a missing program match ErrCommandNotFound.
func (e *CommandError) Is(target error) bool {
	return target == ErrCommandNotFound && e.Problem != problemNotExecutable
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = strconv.Quote(a)
	}
	return "[" + strings.Join(q, " ") + "]"
}

// The runtimes' words for a command they could not execute: runc
// (`exec: "x": executable file not found in $PATH`, `exec: "/x": stat /x:
// no such file or directory`, `exec: "/x": permission denied`) and crun
// ("executable file `x` not found in $PATH", "/x: No such file or
// directory: OCI runtime attempted to invoke a command that was not found").
var (
	runcExec      = regexp.MustCompile(`exec: "([^"]*)": (executable file not found in \$PATH|stat [^:]*: no such file or directory|permission denied)`)
	crunNotInPath = regexp.MustCompile("executable file `([^`]*)` not found in \\$PATH")
	crunNoFile    = regexp.MustCompile(`crun: ([^:]*): No such file or directory`)
	crunDenied    = regexp.MustCompile(`crun: ([^:]*): Permission denied`)
)

// commandProblem reads a start error: the program the runtime could not
// execute and why, or ok false when the error is about something else.
func commandProblem(msg string) (command, problem string, ok bool) {
	if m := runcExec.FindStringSubmatch(msg); m != nil {
		switch {
		case strings.HasPrefix(m[2], "executable file"):
			return m[1], problemNotInPath, true
		case strings.HasPrefix(m[2], "stat"):
			return m[1], problemNoFile, true
		}
		return m[1], problemNotExecutable, true
	}
	if m := crunNotInPath.FindStringSubmatch(msg); m != nil {
		return m[1], problemNotInPath, true
	}
	if m := crunNoFile.FindStringSubmatch(msg); m != nil && strings.Contains(msg, "command that was not found") {
		return m[1], problemNoFile, true
	}
	if m := crunDenied.FindStringSubmatch(msg); m != nil {
		return m[1], problemNotExecutable, true
	}
	return "", "", false
}

// commandError explains a start that failed because the command cannot be
// executed, naming the Entrypoint and Cmd the container was created with;
// nil when err is about something else.
func (ctr *Container) commandError(ctx context.Context, err error) error {
	command, problem, ok := commandProblem(err.Error())
	if !ok {
		return nil
	}
	ce := &CommandError{Command: command, Problem: problem, Entrypoint: ctr.entrypoint, Cmd: ctr.cmd, Err: err}
	// The image's Entrypoint and Cmd fill what the spec left out; the
	// engine's inspect says what the container really has.
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if info, ierr := ctr.client.ContainerInspect(ictx, ctr.id); ierr == nil && info.Config != nil {
		ce.Entrypoint, ce.Cmd = info.Config.Entrypoint, info.Config.Cmd
		if ctr.entrypoint == nil && len(ce.Entrypoint) > 0 {
			ce.FromImage = append(ce.FromImage, "Entrypoint")
		}
		// The engine drops the image's Cmd when the spec sets an Entrypoint.
		if ctr.cmd == nil && len(ce.Cmd) > 0 {
			ce.FromImage = append(ce.FromImage, "Cmd")
		}
	}
	return ce
}
