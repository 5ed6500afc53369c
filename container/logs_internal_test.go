package container

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The engine's log may hold a stderr line after stdout lines stamped
// later: each stream is told apart, and a line read again is dropped.
func TestLifeSeenKeepsStreamsApart(t *testing.T) {
	var s lifeSeen
	take := func(stream, text string) string {
		l := LogLine{Stream: stream, Text: text}
		if !s.fresh(&l) {
			return "dropped"
		}
		return l.Text
	}
	assert.Equal(t, "run", take("stdout", "2026-12-07T12:00:00.000000001Z run"))
	assert.Equal(t, "line1", take("stdout", "2026-12-07T12:00:00.000000003Z line1"))
	assert.True(t, s.since().IsZero(), "stderr has shown nothing yet: read from the start")
	assert.Equal(t, "err", take("stderr", "2026-12-07T12:00:00.000000002Z err"))
	assert.Equal(t, "2026-12-07T12:00:00.000000002Z", s.since().Format("2006-01-02T15:04:05.000000000Z"))

	// Opened again from since: everything up to here comes once more.
	assert.Equal(t, "dropped", take("stderr", "2026-12-07T12:00:00.000000002Z err"))
	assert.Equal(t, "dropped", take("stdout", "2026-12-07T12:00:00.000000003Z line1"))
	assert.Equal(t, "line2", take("stdout", "2026-12-07T12:00:00.000000004Z line2"))
	assert.Equal(t, "no stamp", take("stdout", "no stamp"))
}
