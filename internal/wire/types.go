package wire

// ContainerConfig is the body of POST /containers/create (and the Config of
// an inspect answer). Only the fields berth uses are declared.
type ContainerConfig struct {
	Hostname     string              `json:",omitempty"`
	Domainname   string              `json:",omitempty"`
	User         string              `json:",omitempty"`
	AttachStdin  bool                `json:",omitempty"`
	AttachStdout bool                `json:",omitempty"`
	AttachStderr bool                `json:",omitempty"`
	ExposedPorts map[string]struct{} `json:",omitempty"`
	Tty          bool                `json:",omitempty"`
	OpenStdin    bool                `json:",omitempty"`
	StdinOnce    bool                `json:",omitempty"`
	Env          []string            `json:",omitempty"`
	Cmd          []string            `json:",omitempty"`
	Healthcheck  *HealthConfig       `json:",omitempty"`
	Image        string              `json:",omitempty"`
	Volumes      map[string]struct{} `json:",omitempty"`
	WorkingDir   string              `json:",omitempty"`
	Entrypoint   []string            `json:",omitempty"`
	Labels       map[string]string   `json:",omitempty"`
	StopSignal   string              `json:",omitempty"`
	StopTimeout  *int                `json:",omitempty"`

	HostConfig       *HostConfig       `json:",omitempty"`
	NetworkingConfig *NetworkingConfig `json:",omitempty"`

	// Edit, when set, changes the body as a JSON object before it is
	// sent: the caller's way to fields this type does not have.
	Edit func(body map[string]any) error `json:"-"`
}

// HealthConfig is a container's HEALTHCHECK.
type HealthConfig struct {
	Test        []string `json:",omitempty"`
	Interval    int64    `json:",omitempty"`
	Timeout     int64    `json:",omitempty"`
	StartPeriod int64    `json:",omitempty"`
	Retries     int      `json:",omitempty"`
}

// PortBinding is one host side of a published port.
type PortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

// Mount is a HostConfig mount.
type Mount struct {
	Type          string         `json:"Type"` // bind, volume, tmpfs
	Source        string         `json:"Source,omitempty"`
	Target        string         `json:"Target"`
	ReadOnly      bool           `json:"ReadOnly,omitempty"`
	TmpfsOptions  *TmpfsOptions  `json:"TmpfsOptions,omitempty"`
	VolumeOptions *VolumeOptions `json:"VolumeOptions,omitempty"`
}

// TmpfsOptions are options of a tmpfs mount.
type TmpfsOptions struct {
	SizeBytes int64  `json:"SizeBytes,omitempty"`
	Mode      uint32 `json:"Mode,omitempty"`
}

// VolumeOptions are options of a volume mount.
type VolumeOptions struct {
	NoCopy bool              `json:"NoCopy,omitempty"`
	Labels map[string]string `json:"Labels,omitempty"`
}

// RestartPolicy is a container's restart policy.
type RestartPolicy struct {
	Name              string `json:"Name,omitempty"`
	MaximumRetryCount int    `json:"MaximumRetryCount,omitempty"`
}

// HostConfig is the host side of a container's configuration.
type HostConfig struct {
	Binds           []string                 `json:",omitempty"`
	NetworkMode     string                   `json:",omitempty"`
	PortBindings    map[string][]PortBinding `json:",omitempty"`
	RestartPolicy   *RestartPolicy           `json:",omitempty"`
	AutoRemove      bool                     `json:",omitempty"`
	CapAdd          []string                 `json:",omitempty"`
	CapDrop         []string                 `json:",omitempty"`
	ExtraHosts      []string                 `json:",omitempty"`
	Privileged      bool                     `json:",omitempty"`
	PublishAllPorts bool                     `json:",omitempty"`
	ReadonlyRootfs  bool                     `json:",omitempty"`
	SecurityOpt     []string                 `json:",omitempty"`
	Tmpfs           map[string]string        `json:",omitempty"`
	ShmSize         int64                    `json:",omitempty"`
	Init            *bool                    `json:",omitempty"`
	Mounts          []Mount                  `json:",omitempty"`
	Resources
	Sysctls map[string]string `json:",omitempty"`
	Ulimits []Ulimit          `json:",omitempty"`
	Devices []DeviceMapping   `json:",omitempty"`
}

// Resources are the limits a container is created with (in HostConfig)
// and that an update changes; the API sends them as HostConfig's and
// UpdateConfig's own fields.
type Resources struct {
	Memory     int64  `json:",omitempty"`
	MemorySwap int64  `json:",omitempty"`
	NanoCPUs   int64  `json:",omitempty"`
	CPUShares  int64  `json:"CpuShares,omitempty"`
	CPUPeriod  int64  `json:"CpuPeriod,omitempty"`
	CPUQuota   int64  `json:"CpuQuota,omitempty"`
	PidsLimit  *int64 `json:",omitempty"`
}

// Ulimit is a resource limit of a container's processes.
type Ulimit struct {
	Name string
	Soft int64
	Hard int64
}

// DeviceMapping makes a host device available in a container.
type DeviceMapping struct {
	PathOnHost        string
	PathInContainer   string
	CgroupPermissions string
}

// NetworkingConfig attaches a new container to networks.
type NetworkingConfig struct {
	EndpointsConfig map[string]*EndpointSettings `json:",omitempty"`
}

// EndpointSettings is a container's membership in one network.
type EndpointSettings struct {
	Aliases     []string `json:",omitempty"`
	NetworkID   string   `json:",omitempty"`
	EndpointID  string   `json:",omitempty"`
	Gateway     string   `json:",omitempty"`
	IPAddress   string   `json:",omitempty"`
	IPPrefixLen int      `json:",omitempty"`
	MacAddress  string   `json:",omitempty"`
}

// CreateResponse is the answer of a create call.
type CreateResponse struct {
	ID       string   `json:"Id"`
	Warnings []string `json:"Warnings"`
}

// Health is a container's health state.
type Health struct {
	Status        string
	FailingStreak int
	Log           []HealthLog
}

// HealthLog is one health probe result.
type HealthLog struct {
	Start    string
	End      string
	ExitCode int
	Output   string
}

// ContainerState is the State of an inspect answer.
type ContainerState struct {
	Status     string
	Running    bool
	Paused     bool
	Restarting bool
	OOMKilled  bool
	Dead       bool
	Pid        int
	ExitCode   int
	Error      string
	StartedAt  string
	FinishedAt string
	Health     *Health `json:",omitempty"`
}

// NetworkSettings is the NetworkSettings of an inspect answer.
type NetworkSettings struct {
	Ports    map[string][]PortBinding
	Networks map[string]*EndpointSettings
}

// MountPoint is a mount as inspect reports it.
type MountPoint struct {
	Type        string
	Name        string
	Source      string
	Destination string
	RW          bool
}

// ContainerJSON is the answer of GET /containers/{id}/json.
type ContainerJSON struct {
	ID              string `json:"Id"`
	Name            string
	Created         string
	Image           string
	RestartCount    int
	State           *ContainerState
	Config          *ContainerConfig
	HostConfig      *HostConfig
	NetworkSettings *NetworkSettings
	Mounts          []MountPoint
}

// ContainerSummary is one entry of GET /containers/json.
type ContainerSummary struct {
	ID      string `json:"Id"`
	Names   []string
	Image   string
	ImageID string
	Created int64
	State   string
	Status  string
	Labels  map[string]string
}

// WaitResponse is the answer of POST /containers/{id}/wait.
type WaitResponse struct {
	StatusCode int64
	Error      *struct{ Message string } `json:",omitempty"`
}

// PathStat is the decoded X-Docker-Container-Path-Stat header.
type PathStat struct {
	Name       string `json:"name"`
	Size       int64  `json:"size"`
	Mode       uint32 `json:"mode"`
	Mtime      string `json:"mtime"`
	LinkTarget string `json:"linkTarget"`
}

// TopResponse is the answer of GET /containers/{id}/top.
type TopResponse struct {
	Titles    []string
	Processes [][]string
}

// ChangeItem is one entry of GET /containers/{id}/changes. Kind is 0
// (modified), 1 (added) or 2 (deleted).
type ChangeItem struct {
	Path string
	Kind int
}

// UpdateConfig is the body of POST /containers/{id}/update.
type UpdateConfig struct {
	Resources
	RestartPolicy *RestartPolicy `json:",omitempty"`
}

// ExecConfig is the body of POST /containers/{id}/exec.
type ExecConfig struct {
	User         string   `json:",omitempty"`
	Privileged   bool     `json:",omitempty"`
	Tty          bool     `json:",omitempty"`
	AttachStdin  bool     `json:",omitempty"`
	AttachStdout bool     `json:",omitempty"`
	AttachStderr bool     `json:",omitempty"`
	Env          []string `json:",omitempty"`
	WorkingDir   string   `json:",omitempty"`
	Cmd          []string
}

// ExecInspect is the answer of GET /exec/{id}/json.
type ExecInspect struct {
	ID       string `json:"ID"`
	Running  bool
	ExitCode int
	Pid      int
}

// ImageInspect is the answer of GET /images/{name}/json.
type ImageInspect struct {
	ID           string `json:"Id"`
	RepoTags     []string
	RepoDigests  []string
	Created      string
	Size         int64
	Config       *ContainerConfig
	Os           string
	Architecture string
	// RootFS lists the layers' diff IDs (digests of the uncompressed
	// layer tars), base first.
	RootFS struct {
		Type   string
		Layers []string
	}
}

// ImageSummary is one entry of GET /images/json.
type ImageSummary struct {
	ID       string `json:"Id"`
	RepoTags []string
	Created  int64
	Size     int64
	Labels   map[string]string
}

// NetworkCreate is the body of POST /networks/create.
type NetworkCreate struct {
	Name           string
	CheckDuplicate bool              `json:",omitempty"`
	Driver         string            `json:",omitempty"`
	Internal       bool              `json:",omitempty"`
	Attachable     bool              `json:",omitempty"`
	EnableIPv6     bool              `json:",omitempty"`
	Options        map[string]string `json:",omitempty"`
	Labels         map[string]string `json:",omitempty"`
}

// NetworkResource is a network as inspect and list report it.
type NetworkResource struct {
	Name     string
	ID       string `json:"Id"`
	Created  string
	Driver   string
	Internal bool
	Labels   map[string]string
	IPAM     struct {
		Config []struct {
			Subnet  string `json:",omitempty"`
			Gateway string `json:",omitempty"`
		}
	}
	Containers map[string]struct {
		Name        string
		IPv4Address string
	}
}

// Volume is a named volume.
type Volume struct {
	Name       string
	Driver     string
	Mountpoint string
	CreatedAt  string
	Labels     map[string]string
}

// Event is one message of GET /events.
type Event struct {
	Type   string
	Action string
	Actor  struct {
		ID         string
		Attributes map[string]string
	}
	Time     int64 `json:"time"`
	TimeNano int64 `json:"timeNano"`
}

// SystemVersion is the answer of GET /version.
type SystemVersion struct {
	Version       string
	APIVersion    string `json:"ApiVersion"`
	MinAPIVersion string `json:"MinAPIVersion"`
	Os            string
	Arch          string
	KernelVersion string
	Components    []struct {
		Name    string
		Version string
	}
}

// SystemInfo is the part of GET /info berth reads.
type SystemInfo struct {
	ID                string
	Name              string
	ServerVersion     string
	OperatingSystem   string
	OSType            string
	Architecture      string
	NCPU              int
	MemTotal          int64
	Driver            string
	CgroupVersion     string
	ExperimentalBuild bool
	Containers        int
	Images            int
	// Rootless is Podman's word for an engine run by a non-root user;
	// rootless Docker says "name=rootless" in SecurityOptions.
	Rootless        bool
	SecurityOptions []string
}

// AuthResponse is the answer of POST /auth.
type AuthResponse struct {
	Status        string
	IdentityToken string
}

// StatsJSON is one sample of GET /containers/{id}/stats.
type StatsJSON struct {
	Read      string `json:"read"`
	PreRead   string `json:"preread"`
	PidsStats struct {
		Current uint64 `json:"current"`
		Limit   uint64 `json:"limit"`
	} `json:"pids_stats"`
	CPUStats    CPUStats `json:"cpu_stats"`
	PreCPUStats CPUStats `json:"precpu_stats"`
	MemoryStats struct {
		Usage    uint64            `json:"usage"`
		MaxUsage uint64            `json:"max_usage"`
		Limit    uint64            `json:"limit"`
		Stats    map[string]uint64 `json:"stats"`
	} `json:"memory_stats"`
	Networks map[string]struct {
		RxBytes uint64 `json:"rx_bytes"`
		TxBytes uint64 `json:"tx_bytes"`
	} `json:"networks"`
	BlkioStats struct {
		IoServiceBytesRecursive []struct {
			Op    string `json:"op"`
			Value uint64 `json:"value"`
		} `json:"io_service_bytes_recursive"`
	} `json:"blkio_stats"`
}

// CPUStats is the CPU part of a stats sample.
type CPUStats struct {
	CPUUsage struct {
		TotalUsage  uint64   `json:"total_usage"`
		PercpuUsage []uint64 `json:"percpu_usage"`
	} `json:"cpu_usage"`
	SystemUsage uint64 `json:"system_cpu_usage"`
	OnlineCPUs  uint32 `json:"online_cpus"`
}
