package engine

import (
	"fmt"
	"testing"
)

// TestPublishHost pins where mapped ports are looked for: on 127.0.0.1 for
// an engine on this machine's socket, on the engine's own host for tcp://
// and ssh:// engines — never 127.0.0.1 unless that is the engine's host.
func TestPublishHost(t *testing.T) {
	for _, tc := range []struct {
		host string
		want string
	}{
		{"unix:///var/run/docker.sock", "127.0.0.1"},
		{"unix:///run/user/1000/podman/podman.sock", "127.0.0.1"},
		{"npipe:////./pipe/docker_engine", "127.0.0.1"},

		{"tcp://10.0.0.5:2376", "10.0.0.5"},
		{"tcp://10.0.0.5", "10.0.0.5"},
		{"tcp://docker.example.test:2375", "docker.example.test"},
		{"tcp://127.0.0.1:2376", "127.0.0.1"},
		{"tcp://localhost:2375", "localhost"},
		{"tcp://[2001:db8::1]:2376", "2001:db8::1"},
		{"http://docker.example.test:2375", "docker.example.test"},
		{"https://docker.example.test:2376", "docker.example.test"},

		{"ssh://build-host", "build-host"},
		{"ssh://ci@build-host", "build-host"},
		{"ssh://ci@build-host:2222", "build-host"},
		{"ssh://ci@10.1.2.3:22/var/run/docker.sock", "10.1.2.3"},
		{"ssh://ci@[2001:db8::2]:22", "2001:db8::2"},
		{"ssh://root@127.0.0.1:2222", "127.0.0.1"},
		{"ssh://[2001:db8::2]", "2001:db8::2"},
		{"tcp://[::1]", "::1"},
		{"tcp://0.0.0.0:2375", "127.0.0.1"},
		{"tcp://[::]:2375", "127.0.0.1"},
	} {
		t.Run(tc.host, func(t *testing.T) {
			if got := PublishHost(tc.host); got != tc.want {
				t.Errorf("PublishHost(%q) = %q, want %q", tc.host, got, tc.want)
			}
		})
	}
}

func ExamplePublishHost() {
	for _, h := range []string{"unix:///var/run/docker.sock", "tcp://docker.example.test:2376", "ssh://ci@build-host:2222"} {
		fmt.Println(PublishHost(h))
	}
	// Output:
	// 127.0.0.1
	// docker.example.test
	// build-host
}
