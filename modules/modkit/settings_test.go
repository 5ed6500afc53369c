package modkit_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/berth-go/berth/modules/modkit"
)

func TestSettingsLaterSetWins(t *testing.T) {
	var s modkit.Settings
	assert.Empty(t, slices.Collect(maps.Keys(maps.Collect(s.All()))))
	s.Set("save", "")
	s.Set("maxmemory", "1mb")
	s.Set("appendonly", "no")
	s.Set("save", "60 1")
	var got []string
	for k, v := range s.All() {
		got = append(got, k+"="+v)
	}
	assert.Equal(t, []string{"maxmemory=1mb", "appendonly=no", "save=60 1"}, got)
	for k := range s.All() {
		assert.Equal(t, "maxmemory", k, "All stops when asked")
		break
	}
}
