package registry_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/berth-go/berth/registry"
)

func ExampleParseReference() {
	for _, s := range []string{"redis", "user/app:1.2", "localhost:5000/team/app@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"} {
		ref, err := registry.ParseReference(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s\n  domain=%s path=%s tag=%q auth key=%s\n", ref, ref.Domain, ref.Path, ref.Tag, ref.AuthKey())
	}
	// Output:
	// docker.io/library/redis:latest
	//   domain=docker.io path=library/redis tag="latest" auth key=https://index.docker.io/v1/
	// docker.io/user/app:1.2
	//   domain=docker.io path=user/app tag="1.2" auth key=https://index.docker.io/v1/
	// localhost:5000/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
	//   domain=localhost:5000 path=team/app tag="" auth key=localhost:5000
}

func ExampleParseReference_errors() {
	for _, s := range []string{"MyApp:1", "redis:-bad", "localhost:5000/app@sha256:abc"} {
		_, err := registry.ParseReference(s)
		var re *registry.ReferenceError
		if errors.As(err, &re) {
			fmt.Printf("%s: %v\n", re.Part, errors.Is(err, registry.ErrInvalidReference))
		}
		fmt.Println(err)
	}
	// Output:
	// path: true
	// invalid image reference "MyApp:1": path "library/MyApp" must be lowercase (repository names cannot contain upper-case letters)
	// tag: true
	// invalid image reference "redis:-bad": tag "-bad" must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'
	// digest: true
	// invalid image reference "localhost:5000/app@sha256:abc": digest "sha256:abc" must have 64 hex digits after sha256:, it has 3
}

func ExampleReference_Familiar() {
	for _, s := range []string{"docker.io/library/redis:7", "index.docker.io/user/app", "localhost:5000/app:1"} {
		ref, _ := registry.ParseReference(s)
		fmt.Println(ref.Familiar())
	}
	// Output:
	// redis:7
	// user/app:latest
	// localhost:5000/app:1
}

func ExampleAuthKey() {
	for _, host := range []string{"docker.io", "registry-1.docker.io", "localhost:5000", "https://ghcr.io/v2/"} {
		fmt.Println(registry.AuthKey(host))
	}
	// Output:
	// https://index.docker.io/v1/
	// https://index.docker.io/v1/
	// localhost:5000
	// ghcr.io
}

// The default keychain finds credentials where `docker pull` would, and says
// where it found them.
func ExampleKeychain() {
	dir, _ := os.MkdirTemp("", "docker-config-")
	defer os.RemoveAll(dir)
	auth := base64.StdEncoding.EncodeToString([]byte("ci:s3cret"))
	_ = os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths": {"localhost:5000": {"auth": "`+auth+`"}}}`), 0o600)
	defer restoreEnv("DOCKER_CONFIG", dir)()
	defer restoreEnv("DOCKER_AUTH_CONFIG", "")()

	kc := registry.DefaultKeychain()
	for _, host := range []string{"localhost:5000", "docker.io"} {
		cfg, src, err := kc.Resolve(context.Background(), host)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s: %s from %s\n", host, cfg, src.Kind)
	}
	// Output:
	// localhost:5000: AuthConfig{serveraddress: "localhost:5000", username: "ci", password: [redacted]} from auths
	// docker.io: AuthConfig{anonymous} from anonymous
}

// Explicit credentials for one registry go on top of the user's setup.
func ExampleWithAuth() {
	kc := registry.WithAuth(registry.DefaultKeychain(), "localhost:5000",
		registry.AuthConfig{Username: "ci", Password: "s3cret"})
	cfg, src, err := kc.Resolve(context.Background(), "localhost:5000")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Username, src)
	// Output: ci explicit
}

func ExampleAuthConfig_String() {
	cfg := registry.AuthConfig{Username: "ci", Password: "s3cret", IdentityToken: "tok", ServerAddress: "localhost:5000"}
	fmt.Println(cfg)
	fmt.Printf("%#v\n", cfg)
	// Output:
	// AuthConfig{serveraddress: "localhost:5000", username: "ci", password: [redacted], identitytoken: [redacted]}
	// registry.AuthConfig{serveraddress: "localhost:5000", username: "ci", password: [redacted], identitytoken: [redacted]}
}

func ExampleEncodeAuthHeader() {
	h, err := registry.EncodeAuthHeader(registry.AuthConfig{Username: "ci", Password: "s3cret", ServerAddress: "localhost:5000"})
	if err != nil {
		fmt.Println(err)
		return
	}
	raw, _ := base64.URLEncoding.DecodeString(h)
	fmt.Println(string(raw))
	// Output: {"username":"ci","password":"s3cret","serveraddress":"localhost:5000"}
}

// A classic build gets the credentials of the registries its FROM lines
// name in X-Registry-Config.
func ExampleBuildAuthConfigs() {
	kc := registry.Static(map[string]registry.AuthConfig{
		"localhost:5000": {Username: "ci", Password: "s3cret"},
	})
	configs, err := registry.BuildAuthConfigs(context.Background(), kc, []string{"localhost:5000", "docker.io"})
	if err != nil {
		fmt.Println(err)
		return
	}
	header, _ := registry.EncodeConfigHeader(configs)
	raw, _ := base64.URLEncoding.DecodeString(header)
	fmt.Println(string(raw))
	// Output: {"localhost:5000":{"username":"ci","password":"s3cret","serveraddress":"localhost:5000"}}
}

// restoreEnv sets key to value and returns a func that restores it.
func restoreEnv(key, value string) func() {
	old, had := os.LookupEnv(key)
	_ = os.Setenv(key, value)
	return func() {
		if had {
			_ = os.Setenv(key, old)
		} else {
			_ = os.Unsetenv(key)
		}
	}
}
