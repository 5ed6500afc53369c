package engine

// Labels berth puts on what it makes. One definition serves the harness,
// the watchdog, `berth prune`, the modules and the leftover checks.
const (
	// LabelSession ties a resource to the berth session (a UUID) that
	// made it; the session, its watchdog and `berth prune` remove by it.
	LabelSession = "berth.session"
	// LabelTest names the test (t.Name()) a resource belongs to.
	LabelTest = "berth.test"
	// LabelPID is the process ID of the session's test binary.
	LabelPID = "berth.pid"
	// LabelReuse marks a container kept across runs by Reuse(name).
	LabelReuse = "berth.reuse"
	// LabelSpecHash is the hash of a reused container's spec.
	LabelSpecHash = "berth.spec-hash"
	// LabelCache carries the input hash of a warm-start or build cache
	// image: an image with the same hash is used instead of doing the
	// work again.
	LabelCache = "berth.cache"
	// LabelCacheBase is the base image ID of a warm-start cache image.
	LabelCacheBase = "berth.cache.base"
	// LabelBuild marks images berth built.
	LabelBuild = "berth.build"
	// LabelExpires is the lease of a session's resource: a Unix time in
	// seconds after which its session has certainly ended (its test
	// binary's -test.timeout has passed), so anyone may remove it.
	LabelExpires = "berth.expires"
	// LabelHost is the host name of the machine the session ran on.
	LabelHost = "berth.host"
	// LabelPIDNS names the PID namespace of the session's process, so a
	// PID is only judged where it means the same process.
	LabelPIDNS = "berth.pidns"
)

// Kind is a kind of engine resource.
type Kind string

// The resource kinds berth makes, in the order they are removed:
// containers first (they hold networks and volumes), images last.
const (
	KindContainer Kind = "container"
	KindNetwork   Kind = "network"
	KindVolume    Kind = "volume"
	KindImage     Kind = "image"
)

// Kinds lists every kind in removal order.
var Kinds = []Kind{KindContainer, KindNetwork, KindVolume, KindImage}

// SessionSelector is the label selector of one session's resources.
func SessionSelector(session string) string { return LabelSession + "=" + session }
