package container

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Answers where Podman differs from dockerd, absorbed for the caller.

func TestSplitPsTable(t *testing.T) {
	tests := []struct {
		name string
		in   Processes
		want Processes
	}{
		{"unsplit, from the ps inside the container",
			Processes{Titles: []string{"PID   USER     COMMAND"}, Rows: [][]string{{"1 root     sleep 3600"}, {"  7 root     sh -c  echo a"}}},
			Processes{Titles: []string{"PID", "USER", "COMMAND"}, Rows: [][]string{{"1", "root", "sleep 3600"}, {"7", "root", "sh -c  echo a"}}}},
		{"split already",
			Processes{Titles: []string{"PID", "COMMAND"}, Rows: [][]string{{"1", "sleep 3600"}}},
			Processes{Titles: []string{"PID", "COMMAND"}, Rows: [][]string{{"1", "sleep 3600"}}}},
		{"one column",
			Processes{Titles: []string{"PID"}, Rows: [][]string{{"1"}}},
			Processes{Titles: []string{"PID"}, Rows: [][]string{{"1"}}}},
		{"short row",
			Processes{Titles: []string{"PID USER COMMAND"}, Rows: [][]string{{"1"}}},
			Processes{Titles: []string{"PID", "USER", "COMMAND"}, Rows: [][]string{{"1"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, splitPsTable(tt.in))
		})
	}
}

func TestColumnCMDIsCOMMAND(t *testing.T) {
	p := Processes{Titles: []string{"PID", "COMMAND"}, Rows: [][]string{{"1", "sleep 3600"}}}
	assert.Equal(t, []string{"sleep 3600"}, p.Column("CMD"))
	assert.Equal(t, []string{"sleep 3600"}, p.Column("COMMAND"))
	q := Processes{Titles: []string{"PID", "CMD"}, Rows: [][]string{{"1", "sleep 3600"}}}
	assert.Equal(t, []string{"sleep 3600"}, q.Column("COMMAND"))
	assert.Nil(t, q.Column("ARGS"))
}

func TestWithoutRuntimeEtc(t *testing.T) {
	etc := Change{Path: "/etc", Kind: Modified}
	out := Change{Path: "/out", Kind: Added}
	assert.Equal(t, []Change{out}, withoutRuntimeEtc([]Change{etc, out}))
	assert.Equal(t, []Change{}, withoutRuntimeEtc([]Change{etc}))
	inside := []Change{etc, {Path: "/etc/motd", Kind: Added}}
	assert.Equal(t, inside, withoutRuntimeEtc(inside), "a real change in /etc keeps its parent")
	deleted := []Change{{Path: "/etc", Kind: Deleted}}
	assert.Equal(t, deleted, withoutRuntimeEtc(deleted))
}
