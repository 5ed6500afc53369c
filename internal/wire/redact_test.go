package wire

import (
	"context"
	"crypto/tls"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/berth-go/berth/internal/tests/netstub"
)

func TestRedactHost(t *testing.T) {
	for in, want := range map[string]string{
		"tcp://bob:pw@host:2376":        "tcp://bob:xxxxx@host:2376",
		"ssh://user:pw@host":            "ssh://user:xxxxx@host",
		"tcp://bob:p/w@x@host:2376/":    "tcp://bob:xxxxx@host:2376/",
		"tcp://bob:p w@host":            "tcp://bob:xxxxx@host",
		"bob:pw@host":                   "bob:xxxxx@host",
		"tcp://bob:@host":               "tcp://bob:xxxxx@host",
		"tcp://bob:xxxxx@host":          "tcp://bob:xxxxx@host",
		"tcp://:pw@host":                "tcp://:xxxxx@host",
		"tcp://:xxxxx@host":             "tcp://:xxxxx@host",
		"ssh://user@host:22":            "ssh://user@host:22",
		"tcp://127.0.0.1:2375":          "tcp://127.0.0.1:2375",
		"unix:///var/run/docker.sock":   "unix:///var/run/docker.sock",
		"unix:///run/a:b@c/docker.sock": "unix:///run/a:b@c/docker.sock",
		"":                              "",
	} {
		assert.Equal(t, want, RedactHost(in), in)
	}
}

// A password in DOCKER_HOST's userinfo reaches no error, String or verb.
func TestHostPasswordNeverShown(t *testing.T) {
	const pw = "s3cr3t-host-pw"
	check := func(t *testing.T, s string) {
		t.Helper()
		assert.NotContains(t, s, pw)
	}
	t.Setenv("DOCKER_CONTEXT", "")
	t.Setenv("DOCKER_CONFIG", t.TempDir())

	// tcp://: the password is dropped, the endpoint still works.
	t.Setenv("DOCKER_HOST", "tcp://bob:"+pw+"@127.0.0.1:1")
	ep, err := EndpointFromEnv()
	require.NoError(t, err)
	assert.Equal(t, "tcp://bob:xxxxx@127.0.0.1:1", ep.Host)
	ep.TLS = &tls.Config{ServerName: "x"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		out := fmt.Sprintf(verb, ep)
		check(t, out)
		assert.Contains(t, out, "tcp://bob:xxxxx@127.0.0.1:1")
		assert.NotContains(t, out, "ServerName", verb)
	}
	byHand := Endpoint{Host: "tcp://bob:" + pw + "@h:1", From: "option"}
	check(t, byHand.String())
	check(t, fmt.Sprintf("%+v", byHand))

	c, err := New()
	require.NoError(t, err)
	defer c.Close()
	check(t, c.Endpoint().Host)
	check(t, fmt.Sprintf("%+v %#v", c, c))
	_, err = c.Ping(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrDaemonUnreachable)
	check(t, err.Error())
	assert.Contains(t, err.Error(), "tcp://bob:xxxxx@127.0.0.1:1")

	// Given in code, a password is dropped the same way.
	c2, err := New(WithHost("tcp://bob:"+pw+"@127.0.0.1:1"), WithVersion("1.41"))
	require.NoError(t, err)
	defer c2.Close()
	_, err = c2.ContainerInspect(context.Background(), "x")
	require.Error(t, err)
	check(t, err.Error())

	// A hung engine's error names the host redacted.
	addr := netstub.Hung(t)
	c3, err := New(WithHost("tcp://bob:"+pw+"@"+addr), WithResponseTimeout(200*time.Millisecond))
	require.NoError(t, err)
	defer c3.Close()
	_, err = c3.Ping(context.Background())
	require.ErrorIs(t, err, ErrNoResponse)
	check(t, err.Error())

	// ssh:// logs in with keys or an agent: the password is dropped.
	c4, err := New(WithHost("ssh://user:" + pw + "@127.0.0.1:1"))
	require.NoError(t, err)
	defer c4.Close()
	assert.Equal(t, "ssh://user:xxxxx@127.0.0.1:1", c4.Endpoint().Host)

	// Endpoints refused for their form.
	for _, host := range []string{
		"tcp://bob:" + pw + "@ho st:2376",  // not a URL
		"tcp://bob:" + pw + "@",            // no host
		"ftp://bob:" + pw + "@host",        // scheme
		"tcp://bob:" + pw + "@[::1:2376",   // url.Parse quotes the URL
		"tcp://bob:" + pw + "@host:%zz/x/", // bad escape
	} {
		t.Setenv("DOCKER_HOST", host)
		_, err := EndpointFromEnv()
		require.Error(t, err, host)
		check(t, err.Error())
		_, err = New()
		require.Error(t, err, host)
		check(t, err.Error())
		_, err = New(WithHost(host))
		require.Error(t, err, host)
		check(t, err.Error())
	}
}
