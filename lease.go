package berth

import (
	"context"
	"flag"
	"os"
	"strconv"
	"time"

	"github.com/berth-go/berth/engine"
)

// leaseMargin is added to the test binary's -test.timeout for a lease:
// cleanup, the watchdog's sweeps and clock skew fit in it.
const leaseMargin = 15 * time.Minute

// defaultLease is the lease of a session outside `go test` or under
// -test.timeout=0: long enough for any session a person runs by hand.
const defaultLease = 24 * time.Hour

// lease is how long the session's resources may be needed: its test
// binary cannot outlive -test.timeout. BERTH_LEASE (a duration) overrides.
func lease() time.Duration {
	if v := os.Getenv("BERTH_LEASE"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return d
		}
	}
	if f := flag.Lookup("test.timeout"); f != nil {
		if g, ok := f.Value.(flag.Getter); ok {
			if d, ok := g.Get().(time.Duration); ok && d > 0 {
				return d + leaseMargin
			}
		}
	}
	return defaultLease
}

// ownerLabels say where the session runs and until when its resources
// are needed: the lease for anyone, the host and PID namespace for
// `berth prune`, which judges a PID only where it names the same process.
func ownerLabels(now time.Time) map[string]string {
	l := map[string]string{
		engine.LabelExpires: strconv.FormatInt(now.Add(lease()).Unix(), 10),
		engine.LabelPID:     strconv.Itoa(os.Getpid()),
	}
	if h, err := os.Hostname(); err == nil {
		l[engine.LabelHost] = h
	}
	if ns, err := os.Readlink("/proc/self/ns/pid"); err == nil {
		l[engine.LabelPIDNS] = ns
	}
	return l
}

// removeExpired removes what ended sessions left past their lease: the
// second line of defence when no watchdog could run.
func removeExpired(c *engine.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c.RemoveExpired(ctx, time.Now())
}
