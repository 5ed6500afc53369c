// Package examples holds runnable tests a new berth user can copy: a
// postgres-backed repository, a redis cache, a service built from a
// Dockerfile talking to postgres over a network, a private-registry pull
// with the user's Docker config, a network partition, a container shared
// by a whole package through TestMain, servers shared by every package of
// a `go test ./...` run with a private database per test (suite_test.go),
// and a Compose file with a built service. `make demo` runs them.
package examples
