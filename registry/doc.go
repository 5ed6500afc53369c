// Package registry holds what berth needs to talk about images in registries
// the way the docker CLI does: image references (parsed and normalised by the
// docker/distribution rules), registry credentials found in the user's Docker
// setup (DOCKER_AUTH_CONFIG, config.json auths, credential helpers), the
// X-Registry-Auth and X-Registry-Config header encodings, and login and push
// through the engine.
//
// Credentials are resolved by a Keychain. DefaultKeychain finds them where
// `docker pull` would; Static and WithAuth put explicit credentials on top.
// Every Resolve also says where the credentials came from (a Source) so a
// tool can report it without showing the secret.
//
// No value of this package prints a secret: AuthConfig redacts passwords,
// tokens and the auth field in String, GoString, every fmt verb and slog, and
// errors never carry credentials, config file content or helper input.
package registry
