package network

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUserAliases(t *testing.T) {
	const id = "db5e0c3a7f21e0b6a8c9d3f4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4"
	tests := []struct {
		name    string
		aliases []string
		want    []string
	}{
		{"none", nil, nil},
		{"short ID dropped", []string{"web", id[:12]}, []string{"web"}},
		{"alias that starts the ID kept", []string{"db", "db5e", id[:12]}, []string{"db", "db5e"}},
		{"duplicates once", []string{"web", "web"}, []string{"web"}},
		{"full ID kept", []string{id}, []string{id}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, userAliases(id, tt.aliases))
		})
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"berth-backend-1a2b3c4d", true},
		{"a", true},
		{"A.b_c-9", true},
		{"", false},
		{"-x", false},
		{".x", false},
		{"a b", false},
		{"a/b", false},
		{"a:b", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.ok, validName.MatchString(tt.name), "%q", tt.name)
	}
}
