// Package examples holds runnable tests a new berth user can copy: a
// postgres-backed repository, a redis cache, a service built from a
// Dockerfile talking to postgres over a network, a private-registry pull
// with the user's Docker config, a network partition, and a container
// shared by a whole package through TestMain. `make demo` runs them.
package examples
