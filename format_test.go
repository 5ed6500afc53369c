package berth_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/berth-go/berth"
	"github.com/berth-go/berth/container"
	"github.com/berth-go/berth/modules/postgres"
	"github.com/berth-go/berth/modules/redis"
	"github.com/berth-go/berth/registry"
)

// Nothing that holds a secret prints it, in any verb: not the builders,
// not a Spec, not the modules' builders, %+v and %#v included.
func TestSecretsNeverPrint(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-Pr1nt-Me-N0t"
	h := berth.New(t)
	values := map[string]any{
		"ContainerBuilder": h.Container("busybox:1.36").Env("TOKEN", secret).Cmd("sh", "-c", "login "+secret).
			Auth(registry.AuthConfig{Username: "ci", Password: secret}),
		"BuildBuilder": h.BuildFiles(map[string][]byte{"Dockerfile": []byte("FROM scratch\n")}).
			Arg("NPM_TOKEN", secret).Auth("localhost:5000", registry.AuthConfig{Username: "ci", Password: secret}),
		"Spec":             container.Spec{Image: "busybox:1.36", Env: map[string]string{"TOKEN": secret}, Cmd: []string{"run", "--password", secret}},
		"postgres.Builder": postgres.New(h).Password(secret),
		"redis.Builder":    redis.New(h).Password(secret),
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, secret, "%s printed with %s: %s", name, verb, out)
			assert.NotContains(t, strings.ToLower(out), fmt.Sprintf("%x", secret), "%s printed with %s", name, verb)
		}
	}
	assert.Contains(t, fmt.Sprintf("%+v", values["Spec"]), "Env: [TOKEN] (values hidden)")
	assert.Contains(t, fmt.Sprintf("%v", values["BuildBuilder"]), "Auth: [localhost:5000] (hidden)")
}
