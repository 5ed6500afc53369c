// Package container creates, starts and drives containers on an engine: a
// Spec is plain data describing a container, Run makes it real, and the
// *Container handle execs, copies, reads logs, maps ports and changes its
// lifecycle.
package container

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/berth-go/berth/registry"
	"github.com/berth-go/berth/wait"
)

// PullPolicy says when Run pulls the image.
type PullPolicy int

const (
	// PullMissing pulls only when the image is not on the engine (default).
	PullMissing PullPolicy = iota
	// PullAlways pulls before every create.
	PullAlways
	// PullNever never pulls; a missing image is an error.
	PullNever
)

func (p PullPolicy) String() string {
	switch p {
	case PullAlways:
		return "always"
	case PullNever:
		return "never"
	}
	return "missing"
}

// MountType is the kind of a Mount.
type MountType string

// Mount kinds.
const (
	MountBind   MountType = "bind"
	MountVolume MountType = "volume"
	MountTmpfs  MountType = "tmpfs"
)

// Mount attaches storage to the container.
type Mount struct {
	Type MountType
	// Source is the host path (bind) or the volume name (volume). A volume
	// that does not exist is created, labelled and removed with the
	// container's resources. Unused for tmpfs.
	Source   string
	Target   string
	ReadOnly bool
	// TmpfsSize bounds a tmpfs mount in bytes (0: the engine's default).
	TmpfsSize int64
}

// File is copied into the container before it starts.
type File struct {
	// HostPath is a file or directory on the host; Content is used when
	// HostPath is empty.
	HostPath string
	Content  []byte
	// Target is the absolute path inside the container. For a directory it
	// is the directory the host directory becomes.
	Target string
	// Mode of a Content file (default 0644). For HostPath, the host mode is
	// kept unless Mode is set.
	Mode os.FileMode
}

// Ulimit is a resource limit of the container's processes, as docker run
// --ulimit NAME=SOFT:HARD.
type Ulimit struct {
	Name       string // "nofile", "nproc", "core", ...
	Soft, Hard int64
}

// CreateRequest is the engine's create-container request as berth built
// it, in the Engine API's own field names (see the API reference for
// POST /containers/create), for Spec.Modify to change: berth's fields are
// set, anything else can be added.
type CreateRequest struct {
	// Config is the top level: "Image", "Env", "Labels", "Healthcheck",
	// "StopSignal", ...
	Config map[string]any
	// HostConfig is "HostConfig": "OomScoreAdj", "CpusetCpus",
	// "BlkioWeight", "Dns", ...
	HostConfig map[string]any
}

// NetworkAttachment joins the container to a network at create time.
type NetworkAttachment struct {
	Network string // ID or name
	Aliases []string
}

// Healthcheck is a HEALTHCHECK given at create, replacing the image's.
type Healthcheck struct {
	// Test is {"CMD", arg...}, {"CMD-SHELL", command} (run with /bin/sh -c)
	// or {"NONE"} to turn the image's check off.
	Test []string
	// Interval, Timeout and StartPeriod are 0 for the engine's defaults
	// (30 s, 30 s, none); a set value must be at least 1 ms. Retries 0 is
	// the engine's default (3).
	Interval, Timeout, StartPeriod time.Duration
	Retries                        int
}

// Spec describes a container. The zero value of every field means the
// image's or engine's default.
type Spec struct {
	Image      string
	Name       string
	Env        map[string]string
	Cmd        []string
	Entrypoint []string
	// Ports to publish: "8080", "8080/tcp", "53/udp" (random host port), or
	// "15432:5432/tcp", "127.0.0.1:15432:5432" (fixed).
	Ports      []string
	Labels     map[string]string
	User       string
	WorkDir    string
	Hostname   string
	Mounts     []Mount
	Files      []File
	Memory     int64   // bytes
	CPUs       float64 // e.g. 0.5
	Privileged bool
	CapAdd     []string
	ExtraHosts []string // "host:ip"
	Networks   []NetworkAttachment
	AutoRemove bool
	Tty        bool
	Pull       PullPolicy
	Platform   string
	// OpenStdin keeps the container's stdin open for Attach; StdinOnce
	// closes it when the first attached client's stdin ends.
	OpenStdin bool
	StdinOnce bool
	// StopTimeout is the grace period of Stop and of removal at cleanup
	// before SIGKILL (0 means kill at once, which is what throw-away test
	// containers want).
	StopTimeout time.Duration
	// Healthcheck replaces the image's HEALTHCHECK; nil keeps it.
	Healthcheck *Healthcheck
	// WaitFor decides when Run returns; nil returns once the container runs.
	WaitFor wait.Strategy
	// The engine's less common settings (docker run's --shm-size,
	// --ulimit, --sysctl, --device, --init, --cap-drop, --security-opt,
	// --read-only).
	ShmSize        int64 // bytes of /dev/shm
	Ulimits        []Ulimit
	Sysctls        map[string]string
	Devices        []string // "/dev/fuse", "/dev/sda:/dev/xvda:rwm"
	Init           bool
	CapDrop        []string
	SecurityOpt    []string
	ReadOnlyRootfs bool
	// Modify changes the create request after berth has filled it, for
	// what Spec has no field for. It is not part of SpecHash.
	Modify func(*CreateRequest) error
	// Reuse, with Name, finds a running container of that name made from
	// the same spec and returns it instead of creating one. A reused
	// container is not removed at cleanup; `berth prune --reuse` removes it.
	Reuse bool
}

// SpecError reports a Spec field that cannot work. Field names the builder
// call (e.g. "Port", "Mount").
type SpecError struct {
	Field string
	Value string
	Hint  string
	// Err, when set, is the typed error of the part that was refused (a
	// *wait.StrategyError for WaitFor); it says what is wrong in place of
	// Value and Hint.
	Err error
}

func (e *SpecError) Error() string {
	if e.Err != nil {
		return e.Field + ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s(%q): %s", e.Field, e.Value, e.Hint)
}

// Unwrap returns Err.
func (e *SpecError) Unwrap() error { return e.Err }

// ErrInvalidSpec matches every *SpecError.
var ErrInvalidSpec = errors.New("invalid container spec")

// Is makes SpecError match ErrInvalidSpec.
func (e *SpecError) Is(target error) bool { return target == ErrInvalidSpec }

// PortSpec is a parsed port publication.
type PortSpec struct {
	HostIP   string
	HostPort int // 0: random
	Port     int
	Proto    string // tcp, udp, sctp
}

// Key is the engine's port key, e.g. "5432/tcp".
func (p PortSpec) Key() string { return strconv.Itoa(p.Port) + "/" + p.Proto }

// ParsePort parses "8080", "8080/udp", "15432:5432", "127.0.0.1:15432:5432/tcp".
func ParsePort(s string) (PortSpec, error) {
	bad := func(hint string) (PortSpec, error) {
		return PortSpec{}, &SpecError{Field: "Port", Value: s, Hint: hint}
	}
	if s == "" {
		return bad(`empty port: give a container port like "8080/tcp"`)
	}
	spec := PortSpec{Proto: "tcp"}
	rest := s
	if i := strings.LastIndex(rest, "/"); i >= 0 {
		spec.Proto = strings.ToLower(rest[i+1:])
		rest = rest[:i]
		switch spec.Proto {
		case "tcp", "udp", "sctp":
		default:
			return bad("protocol must be tcp, udp or sctp")
		}
	}
	parts := strings.Split(rest, ":")
	if strings.HasPrefix(rest, "[") { // [::1]:8080:80
		end := strings.Index(rest, "]")
		if end < 0 {
			return bad("unclosed IPv6 bracket")
		}
		spec.HostIP = rest[1:end]
		parts = append([]string{""}, strings.Split(strings.TrimPrefix(rest[end+1:], ":"), ":")...)
		parts = parts[1:]
		if len(parts) != 2 {
			return bad(`use "[ip]:hostPort:containerPort"`)
		}
		parts = append([]string{spec.HostIP}, parts...)
	}
	num := func(v, what string) (int, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return 0, &SpecError{Field: "Port", Value: s, Hint: what + " must be a number from 1 to 65535, as in \"8080/tcp\" or \"15432:5432\""}
		}
		return n, nil
	}
	var err error
	switch len(parts) {
	case 1:
		spec.Port, err = num(parts[0], "container port")
	case 2:
		if parts[0] != "" {
			if spec.HostPort, err = num(parts[0], "host port"); err != nil {
				return PortSpec{}, err
			}
		}
		spec.Port, err = num(parts[1], "container port")
	case 3:
		spec.HostIP = parts[0]
		if net.ParseIP(spec.HostIP) == nil {
			return bad(`the host IP must be an IP address, as in "127.0.0.1:15432:5432" or "[::1]:15432:5432"`)
		}
		if parts[1] != "" {
			if spec.HostPort, err = num(parts[1], "host port"); err != nil {
				return PortSpec{}, err
			}
		}
		spec.Port, err = num(parts[2], "container port")
	default:
		return bad(`too many ":"; use "containerPort", "hostPort:containerPort" or "ip:hostPort:containerPort"`)
	}
	if err != nil {
		return PortSpec{}, err
	}
	return spec, nil
}

// NormalizePort turns "5432" into "5432/tcp" and lowercases the protocol.
func NormalizePort(p string) (string, error) {
	ps, err := ParsePort(p)
	if err != nil {
		return "", err
	}
	if ps.HostPort != 0 || ps.HostIP != "" {
		return "", &SpecError{Field: "Port", Value: p, Hint: `name the container port only, like "5432/tcp"`}
	}
	return ps.Key(), nil
}

// Validate checks the spec without contacting the engine.
func (s *Spec) Validate() error {
	if err := ValidateImageRef(s.Image); err != nil {
		return err
	}
	for _, p := range s.Ports {
		if _, err := ParsePort(p); err != nil {
			return err
		}
	}
	for _, m := range s.Mounts {
		if err := CheckTarget("Mount", m.Target); err != nil {
			return err
		}
		switch m.Type {
		case MountBind:
			if err := CheckBindSource(m.Source); err != nil {
				return err
			}
		case MountVolume:
			if m.Source == "" {
				return &SpecError{Field: "Mount", Value: m.Target, Hint: "a volume mount needs a volume name"}
			}
		case MountTmpfs:
		default:
			return &SpecError{Field: "Mount", Value: string(m.Type), Hint: "type must be bind, volume or tmpfs"}
		}
	}
	for _, f := range s.Files {
		if err := CheckTarget("File", f.Target); err != nil {
			return err
		}
		if f.HostPath != "" {
			if err := CheckHostFile(f.HostPath); err != nil {
				return err
			}
		}
	}
	for k := range s.Env {
		if err := CheckEnvName(k); err != nil {
			return err
		}
	}
	for _, h := range s.ExtraHosts {
		if err := CheckExtraHost(h); err != nil {
			return err
		}
	}
	for _, u := range s.Ulimits {
		if err := CheckUlimit(u); err != nil {
			return err
		}
	}
	for _, d := range s.Devices {
		if err := CheckDevice(d); err != nil {
			return err
		}
	}
	if s.ShmSize < 0 {
		return &SpecError{Field: "ShmSize", Value: strconv.FormatInt(s.ShmSize, 10), Hint: "must be positive (bytes)"}
	}
	if s.Memory < 0 || (s.Memory > 0 && s.Memory < 6<<20) {
		return &SpecError{Field: "Memory", Value: strconv.FormatInt(s.Memory, 10), Hint: "the engine needs at least 6 MiB"}
	}
	if s.CPUs < 0 {
		return &SpecError{Field: "CPUs", Value: fmt.Sprint(s.CPUs), Hint: "must be positive"}
	}
	if h := s.Healthcheck; h != nil {
		if err := h.validate(); err != nil {
			return err
		}
	}
	// Checked here, before anything exists, so a strategy that can never
	// succeed costs no create, start and wait.
	if err := wait.Validate(s.WaitFor); err != nil {
		return &SpecError{Field: "WaitFor", Value: s.WaitFor.String(), Err: err}
	}
	if s.WaitFor != nil {
		if err := s.checkPublished(); err != nil {
			return err
		}
	}
	return nil
}

// ValidateImageRef checks that ref is an image reference the engine
// accepts ([host[:port]/]path[:tag][@digest], lowercase repository) or an
// image ID.
func ValidateImageRef(ref string) error {
	if ref == "" {
		return &SpecError{Field: "Image", Value: ref, Hint: `empty image reference: give one like "postgres:15-bookworm"`}
	}
	if strings.HasPrefix(ref, "sha256:") {
		return nil
	}
	if _, err := registry.ParseReference(ref); err != nil {
		return &SpecError{Field: "Image", Value: ref, Hint: err.Error()}
	}
	return nil
}

func sortedEnv(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func (h *Healthcheck) validate() error {
	bad := func(value, hint string) error {
		return &SpecError{Field: "Healthcheck", Value: value, Hint: hint}
	}
	if len(h.Test) == 0 {
		return bad("", `give a test: {"CMD", "pg_isready"}, {"CMD-SHELL", "pg_isready -U test"} or {"NONE"}`)
	}
	switch h.Test[0] {
	case "CMD", "CMD-SHELL":
		if len(h.Test) < 2 {
			return bad(h.Test[0], "give the command after "+h.Test[0])
		}
	case "NONE":
	default:
		return bad(h.Test[0], `the test must start with "CMD", "CMD-SHELL" or "NONE"`)
	}
	for _, d := range []time.Duration{h.Interval, h.Timeout, h.StartPeriod} {
		if d != 0 && d < time.Millisecond {
			return bad(d.String(), "intervals are 0 (the engine's default) or at least 1ms")
		}
	}
	if h.Retries < 0 {
		return bad(strconv.Itoa(h.Retries), "retries must not be negative")
	}
	return nil
}

// checkPublished refuses a wait that probes a port through the host when
// the spec does not publish it: it could only time out.
func (s *Spec) checkPublished() error {
	need := wait.PublishedPorts(s.WaitFor)
	if len(need) == 0 {
		return nil
	}
	published := map[string]bool{}
	for _, p := range s.Ports {
		if ps, err := ParsePort(p); err == nil {
			published[ps.Key()] = true
		}
	}
	for _, p := range need {
		key, err := NormalizePort(p)
		if err != nil || published[key] {
			continue // a bad port is wait.Validate's to report
		}
		return &SpecError{Field: "WaitFor", Value: s.WaitFor.String(),
			Hint: fmt.Sprintf("it probes %s through the host, but the container does not publish it: add Port(%q), or wait with ForListeningPort, which also checks inside", key, key)}
	}
	return nil
}
