package compose

import (
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/network"
)

// The labels `docker compose` puts on what it makes, and reads back
// (`docker compose -p NAME ps` lists containers by project and oneoff).
const (
	LabelProject     = "com.docker.compose.project"
	LabelService     = "com.docker.compose.service"
	LabelNumber      = "com.docker.compose.container-number"
	LabelOneOff      = "com.docker.compose.oneoff"
	LabelWorkingDir  = "com.docker.compose.project.working_dir"
	LabelConfigFiles = "com.docker.compose.project.config_files"
	LabelNetwork     = "com.docker.compose.network"
	LabelDependsOn   = "com.docker.compose.depends_on"
)

// checkSupported refuses what berth cannot run faithfully, before
// anything is made: a file that silently ran differently would be worse.
func checkSupported(p *types.Project, s types.ServiceConfig) error {
	bad := func(key, why string) error {
		return fmt.Errorf("service %q: %w: %s (%s)", s.Name, ErrUnsupported, key, why)
	}
	switch {
	case s.GetScale() != 1:
		return bad("scale / deploy.replicas", "one container per service")
	case s.NetworkMode != "":
		return bad("network_mode", "services join the file's networks")
	case len(s.VolumesFrom) > 0:
		return bad("volumes_from", "share a named volume instead")
	case len(s.Secrets) > 0 || len(s.Configs) > 0:
		return bad("secrets / configs", "bind-mount the file instead")
	case len(s.Devices) > 0:
		return bad("devices", "not available to test containers")
	case s.Ipc != "" || s.Pid != "" || s.Uts != "" || s.UserNSMode != "":
		return bad("ipc / pid / uts / userns_mode", "namespaces are the container's own")
	case len(s.CapDrop) > 0 || len(s.SecurityOpt) > 0 || len(s.Sysctls) > 0 || len(s.Ulimits) > 0 || s.ReadOnly:
		return bad("cap_drop / security_opt / sysctls / ulimits / read_only", "not among berth's container settings")
	case s.Provider != nil:
		return bad("provider", "no provider services")
	case len(s.PostStart) > 0 || len(s.PreStop) > 0 || len(s.PreStart) > 0:
		return bad("lifecycle hooks", "use compose.WaitFor or Exec from the test")
	}
	if b := s.Build; b != nil {
		switch {
		case len(b.SSH) > 0 || len(b.Secrets) > 0:
			return bad("build.ssh / build.secrets", "build the image with h.Build and pass it with compose.Image")
		case len(b.Platforms) > 1:
			return bad("build.platforms", "one platform per build")
		}
		if st, err := os.Stat(b.Context); err != nil || !st.IsDir() {
			return fmt.Errorf("service %q: build.context %s: %w: give a local directory", s.Name, b.Context, ErrInvalidFile)
		}
	}
	for _, v := range s.Volumes {
		switch v.Type {
		case types.VolumeTypeBind, types.VolumeTypeTmpfs:
		case types.VolumeTypeVolume:
			if vc, ok := p.Volumes[v.Source]; ok && v.Source != "" && bool(vc.External) {
				return bad("external volume "+v.Source, "volumes are made and removed with the stack")
			}
		default:
			return bad("volume type "+v.Type, "bind, volume and tmpfs are supported")
		}
	}
	for name := range s.Networks {
		if bool(p.Networks[name].External) {
			return bad("external network "+name, "networks are made and removed with the stack")
		}
	}
	return nil
}

// configure applies the service's settings to cb.
func (st *Stack) configure(cb *berth.ContainerBuilder, s types.ServiceConfig, nets map[string]*network.Network, o *override) {
	if len(s.Entrypoint) > 0 {
		cb.Entrypoint(s.Entrypoint...)
	}
	if len(s.Command) > 0 {
		cb.Cmd(s.Command...)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Environment)) {
		if v := s.Environment[k]; v != nil { // nil: unset, as compose leaves it
			cb.Env(k, *v)
		}
	}
	for _, p := range s.Ports {
		cb.Port(st.port(p))
	}
	for _, v := range s.Volumes {
		switch v.Type {
		case types.VolumeTypeBind:
			cb.BindMount(v.Source, v.Target, v.ReadOnly)
		case types.VolumeTypeTmpfs:
			var size int64
			if v.Tmpfs != nil {
				size = int64(v.Tmpfs.Size)
			}
			cb.TmpfsMount(v.Target, size)
		case types.VolumeTypeVolume:
			// A named volume is shared by the stack's services that name
			// it; an anonymous one belongs to this container.
			name := st.name + "_" + v.Source
			if v.Source == "" {
				name = st.name + "_" + s.Name + "_anon" + strings.ReplaceAll(v.Target, "/", "_")
			}
			if v.ReadOnly {
				cb.VolumeMountReadOnly(name, v.Target)
			} else {
				cb.VolumeMount(name, v.Target)
			}
		}
	}
	for _, t := range s.Tmpfs {
		target, opts, _ := strings.Cut(t, ":")
		cb.TmpfsMount(target, tmpfsSize(opts))
	}
	// The first network by priority is joined at create; each gets the
	// service name (unless turned off) and the file's aliases.
	for _, name := range s.NetworksByPriority() {
		sn := s.Networks[name]
		var aliases []string
		if sn.ServiceNameAliasEnabled() {
			aliases = append(aliases, s.Name)
		}
		if s.ContainerName != "" {
			aliases = append(aliases, s.ContainerName)
		}
		if sn != nil {
			aliases = append(aliases, sn.Aliases...)
		}
		cb.Network(nets[name], aliases...)
	}
	if s.HealthCheck != nil {
		if hc, ok := healthcheck(s.HealthCheck); ok {
			cb.Healthcheck(hc)
		}
	}
	if s.User != "" {
		cb.User(s.User)
	}
	if s.WorkingDir != "" {
		cb.WorkDir(s.WorkingDir)
	}
	if s.Hostname != "" {
		cb.Hostname(s.Hostname)
	}
	for _, host := range slices.Sorted(maps.Keys(s.ExtraHosts)) {
		for _, ip := range s.ExtraHosts[host] {
			cb.ExtraHost(host, ip)
		}
	}
	if s.Privileged {
		cb.Privileged()
	}
	if len(s.CapAdd) > 0 {
		cb.CapAdd(s.CapAdd...)
	}
	if s.MemLimit > 0 {
		cb.Memory(int64(s.MemLimit))
	}
	if s.CPUS > 0 {
		cb.CPUs(float64(s.CPUS))
	}
	if s.Tty {
		cb.Tty()
	}
	if s.StdinOpen {
		cb.OpenStdin(false)
	}
	if s.Platform != "" {
		cb.Platform(s.Platform)
	}
	if s.StopGracePeriod != nil {
		cb.StopTimeout(time.Duration(*s.StopGracePeriod))
	}
	switch s.PullPolicy {
	case types.PullPolicyAlways:
		cb.Pull(container.PullAlways)
	case types.PullPolicyNever:
		cb.Pull(container.PullNever)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Labels)) {
		cb.Label(k, s.Labels[k])
	}
	cb.Name(st.name + "-" + s.Name + "-1")
	cb.Label(LabelProject, st.name).
		Label(LabelService, s.Name).
		Label(LabelNumber, "1").
		Label(LabelOneOff, "False").
		Label(LabelWorkingDir, st.project.WorkingDir).
		Label(LabelConfigFiles, strings.Join(st.project.ComposeFiles, ","))
	if len(s.DependsOn) > 0 {
		var deps []string
		for _, d := range slices.Sorted(maps.Keys(s.DependsOn)) {
			deps = append(deps, d+":"+s.DependsOn[d].Condition+":"+strconv.FormatBool(s.DependsOn[d].Restart))
		}
		cb.Label(LabelDependsOn, strings.Join(deps, ","))
	}
	if o != nil {
		for _, k := range slices.Sorted(maps.Keys(o.env)) {
			cb.Env(k, o.env[k])
		}
		for _, f := range o.customize {
			f(cb)
		}
	}
}

// port turns a published port into berth's form: a random host port
// unless FixedPorts.
func (st *Stack) port(p types.ServicePortConfig) string {
	proto := p.Protocol
	if proto == "" {
		proto = "tcp"
	}
	target := strconv.FormatUint(uint64(p.Target), 10) + "/" + proto
	if !st.cfg.fixedPorts || p.Published == "" {
		return target
	}
	if p.HostIP != "" {
		return p.HostIP + ":" + p.Published + ":" + target
	}
	return p.Published + ":" + target
}

// healthcheck converts the file's healthcheck; false keeps the image's
// (a healthcheck that only changes timings is not expressible here).
func healthcheck(h *types.HealthCheckConfig) (container.Healthcheck, bool) {
	if h.Disable {
		return container.Healthcheck{Test: []string{"NONE"}}, true
	}
	if len(h.Test) == 0 {
		return container.Healthcheck{}, false
	}
	hc := container.Healthcheck{Test: h.Test}
	if h.Interval != nil {
		hc.Interval = time.Duration(*h.Interval)
	}
	if h.Timeout != nil {
		hc.Timeout = time.Duration(*h.Timeout)
	}
	if h.StartPeriod != nil {
		hc.StartPeriod = time.Duration(*h.StartPeriod)
	}
	if h.Retries != nil {
		hc.Retries = int(*h.Retries)
	}
	return hc, true
}

// tmpfsSize reads size= from tmpfs options ("size=64m,mode=1777"); 0 is
// the engine's default.
func tmpfsSize(opts string) int64 {
	for _, o := range strings.Split(opts, ",") {
		v, ok := strings.CutPrefix(o, "size=")
		if !ok {
			continue
		}
		mult := int64(1)
		switch strings.ToLower(v[len(v)-min(1, len(v)):]) {
		case "k":
			mult = 1 << 10
		case "m":
			mult = 1 << 20
		case "g":
			mult = 1 << 30
		}
		if mult > 1 {
			v = v[:len(v)-1]
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err == nil && n > 0 && n <= math.MaxInt64/mult {
			return n * mult
		}
	}
	return 0
}
