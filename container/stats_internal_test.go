package container

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/internal/wire"
)

func sample(t *testing.T, js string) wire.StatsJSON {
	t.Helper()
	var s wire.StatsJSON
	require.NoError(t, json.Unmarshal([]byte(js), &s))
	return s
}

func TestComputeStats(t *testing.T) {
	prev := &wire.CPUStats{SystemUsage: 10_000_000_000}
	prev.CPUUsage.TotalUsage = 2_000_000_000
	tests := []struct {
		name string
		js   string
		prev *wire.CPUStats
		want Stats
	}{
		{
			name: "cpu against precpu",
			js: `{"read":"2026-01-02T03:04:05.5Z","cpu_stats":{"cpu_usage":{"total_usage":3000000000},"system_cpu_usage":12000000000,"online_cpus":2},
				"precpu_stats":{"cpu_usage":{"total_usage":2000000000},"system_cpu_usage":10000000000,"online_cpus":2}}`,
			want: Stats{Read: time.Date(2026, 1, 2, 3, 4, 5, 5e8, time.UTC), CPUPercent: 100, OnlineCPUs: 2},
		},
		{
			name: "cpu against the previous sample when precpu is empty",
			js:   `{"cpu_stats":{"cpu_usage":{"total_usage":2500000000},"system_cpu_usage":14000000000,"online_cpus":4}}`,
			prev: prev,
			want: Stats{CPUPercent: 50, OnlineCPUs: 4},
		},
		{
			name: "no earlier reading: no cpu figure",
			js:   `{"cpu_stats":{"cpu_usage":{"total_usage":2500000000},"system_cpu_usage":14000000000,"online_cpus":4}}`,
			want: Stats{OnlineCPUs: 4},
		},
		{
			name: "online cpus from the per-cpu list",
			js: `{"cpu_stats":{"cpu_usage":{"total_usage":300,"percpu_usage":[100,100,100]},"system_cpu_usage":2000},
				"precpu_stats":{"cpu_usage":{"total_usage":100},"system_cpu_usage":1000}}`,
			want: Stats{CPUPercent: 60, OnlineCPUs: 3},
		},
		{
			name: "counters that went back give no cpu figure",
			js: `{"cpu_stats":{"cpu_usage":{"total_usage":100},"system_cpu_usage":2000,"online_cpus":1},
				"precpu_stats":{"cpu_usage":{"total_usage":500},"system_cpu_usage":1000}}`,
			want: Stats{OnlineCPUs: 1},
		},
		{
			name: "cgroup v1 memory leaves out inactive page cache",
			js:   `{"memory_stats":{"usage":1000,"limit":4000,"stats":{"total_inactive_file":200,"inactive_file":100,"cache":500}}}`,
			want: Stats{MemoryUsage: 800, MemoryLimit: 4000, MemoryPercent: 20},
		},
		{
			name: "cgroup v2 memory leaves out inactive files",
			js:   `{"memory_stats":{"usage":1000,"limit":2000,"stats":{"inactive_file":500}}}`,
			want: Stats{MemoryUsage: 500, MemoryLimit: 2000, MemoryPercent: 25},
		},
		{
			name: "inactive larger than usage is ignored",
			js:   `{"memory_stats":{"usage":100,"limit":1000,"stats":{"total_inactive_file":300}}}`,
			want: Stats{MemoryUsage: 100, MemoryLimit: 1000, MemoryPercent: 10},
		},
		{
			name: "no limit reported",
			js:   `{"memory_stats":{"usage":100}}`,
			want: Stats{MemoryUsage: 100},
		},
		{
			name: "network, block io and pids summed",
			js: `{"networks":{"eth0":{"rx_bytes":10,"tx_bytes":1},"eth1":{"rx_bytes":5,"tx_bytes":2}},
				"blkio_stats":{"io_service_bytes_recursive":[{"op":"Read","value":7},{"op":"Write","value":3},{"op":"read","value":1},{"op":"write","value":2},{"op":"Sync","value":99},{"op":"Total","value":13}]},
				"pids_stats":{"current":4,"limit":10}}`,
			want: Stats{NetworkRx: 15, NetworkTx: 3, BlockRead: 8, BlockWrite: 5, Pids: 4, PidsLimit: 10},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := computeStats(sample(t, tt.js), tt.prev)
			assert.InDelta(t, tt.want.CPUPercent, got.CPUPercent, 1e-9)
			assert.InDelta(t, tt.want.MemoryPercent, got.MemoryPercent, 1e-9)
			got.CPUPercent, got.MemoryPercent = tt.want.CPUPercent, tt.want.MemoryPercent
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeStats(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		n       int
		wantErr string
	}{
		{"empty", "", 0, ""},
		{"two samples", `{"read":"2026-01-01T00:00:00Z"}` + "\n" + `{"read":"2026-01-01T00:00:01Z"}` + "\n", 2, ""},
		{"torn sample", `{"read":"2026-01-01T00:00:00Z"}{"read":`, 1, "decode stats sample"},
		{"not json", "<html>", 0, "decode stats sample"},
		{"sample too large", `{"read":"` + strings.Repeat("x", maxStatsSample+10) + `"}`, 0, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			err := decodeStats(strings.NewReader(tt.in), func(wire.StatsJSON) bool { n++; return true })
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			}
			assert.Equal(t, tt.n, n)
		})
	}
	t.Run("fn stops the stream", func(t *testing.T) {
		n := 0
		err := decodeStats(strings.NewReader(`{} {} {}`), func(wire.StatsJSON) bool { n++; return n < 2 })
		require.NoError(t, err)
		assert.Equal(t, 2, n)
	})
}

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		n    uint64
		want string
	}{
		{0, "0B"}, {1023, "1023B"}, {1024, "1.00KiB"}, {256 << 20, "256.00MiB"}, {3 << 30, "3.00GiB"}, {math.MaxUint64, "16.00EiB"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, humanBytes(tt.n), "%d", tt.n)
	}
}

// FuzzStats feeds arbitrary bytes to the stats stream decoder and checks
// that every computed sample is a sane number.
func FuzzStats(f *testing.F) {
	f.Add([]byte(`{"read":"2026-01-02T03:04:05Z","cpu_stats":{"cpu_usage":{"total_usage":3000000000},"system_cpu_usage":12000000000,"online_cpus":2},"precpu_stats":{"cpu_usage":{"total_usage":2000000000},"system_cpu_usage":10000000000}}`))
	f.Add([]byte(`{"memory_stats":{"usage":18446744073709551615,"limit":1,"stats":{"total_inactive_file":18446744073709551615}}}`))
	f.Add([]byte(`{"cpu_stats":{"cpu_usage":{"total_usage":18446744073709551615,"percpu_usage":[1]},"system_cpu_usage":18446744073709551615}} {"read":"x"}`))
	f.Add([]byte(`{"blkio_stats":{"io_service_bytes_recursive":[{"op":"READ","value":1}]},"networks":{"":{}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var prev *wire.CPUStats
		_ = decodeStats(strings.NewReader(string(data)), func(s wire.StatsJSON) bool {
			st := computeStats(s, prev)
			for _, v := range []float64{st.CPUPercent, st.MemoryPercent} {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("bad percentage %v from %+v", v, s)
				}
			}
			if st.MemoryUsage > s.MemoryStats.Usage {
				t.Fatalf("memory usage %d above the raw %d", st.MemoryUsage, s.MemoryStats.Usage)
			}
			_ = st.String()
			cpu := s.CPUStats
			prev = &cpu
			return true
		})
	})
}
