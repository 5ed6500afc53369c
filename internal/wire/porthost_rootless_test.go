package wire

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A rootless engine's bridge is in the engine's own network namespace:
// from a container the engine runs in, its ports are on 127.0.0.1, not on
// the bridge's gateway (rootless Podman's 10.88.0.1 cannot be reached).
func TestPortHostOfARootlessEngine(t *testing.T) {
	for _, tt := range []struct{ name, info, want string }{
		{"rootless Podman", `{"Rootless":true,"SecurityOptions":["name=seccomp,profile=default"]}`, "127.0.0.1"},
		{"rootless Docker", `{"SecurityOptions":["name=seccomp,profile=builtin","name=rootless"]}`, "127.0.0.1"},
		{"rootful", `{"SecurityOptions":["name=seccomp,profile=default"]}`, "10.88.0.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pretend(t, true, "192.168.0.5")
			c := fakeEngine(t, "1.41", func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/v1.41/info":
					w.Write([]byte(tt.info))
				case "/v1.41/networks/bridge":
					w.Write([]byte(`{"Name":"podman","Id":"b1","IPAM":{"Config":[{"Subnet":"10.88.0.0/16","Gateway":"10.88.0.1"}]}}`))
				default:
					http.Error(w, `{"message":"unexpected"}`, http.StatusInternalServerError)
				}
			})
			c.ep.Host = "unix:///run/user/1000/podman/podman.sock"
			assert.Equal(t, tt.want, c.PortHost(context.Background()))
		})
	}
}
