# berth: set-up and test commands. `make demo` and `make test` work on a
# fresh Debian machine as root: they start an engine and build the fixture
# images first. `make` alone lists the targets.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

.DEFAULT_GOAL := help
.PHONY: cross help engine fixtures check-fixtures test test-scripts demo fuzz mutation bench bench-quick soak test-podman test-podman-slice leftovers

help:
	@echo 'make demo            the examples against a real engine (engine + fixtures first)'
	@echo 'make test            the whole suite, as CI runs it (.ci/run)'
	@echo 'make engine          start an engine when none answers /_ping (root + apt: installs docker.io)'
	@echo 'make fixtures        build the images the tests use (skipped when up to date)'
	@echo 'make check-fixtures  check the fixture images behave like the official ones'
	@echo 'make test-scripts    test engine.sh cold paths in private namespaces'
	@echo 'make fuzz            every fuzz target for 30 s'
	@echo 'make mutation        mutation tests (gremlins) of the engine-free packages; >= 90% killed'
	@echo 'make soak            many container lifecycles; goroutines, fds and heap must not grow'
	@echo 'make bench           berth vs raw Engine API vs testcontainers-go vs dockertest'
	@echo 'make test-podman     the core suite against Podman'"'"'s Docker API, and rootless Podman found by the socket search'
	@echo 'make test-podman-slice  the slice of it .ci/run runs: rootless Podman, ~1 min'
	@echo 'make leftovers       list resources labelled berth.session left by ended tests'
	@echo 'make cross           build for linux, darwin and windows on amd64 and arm64'

engine:
	@bash scripts/engine.sh

fixtures: engine
	@bash scripts/fixtures.sh

check-fixtures: fixtures
	@bash scripts/check-fixtures.sh

test: fixtures
	@bash scripts/test.sh

test-scripts:
	@bash scripts/engine-selftest.sh

demo: fixtures
	go test -count=1 -v ./examples/...

fuzz:
	@bash scripts/fuzz.sh 30s

# No engine needed: the tests that need one are left out (build tag mutation).
mutation:
	@bash scripts/mutation.sh

bench: fixtures
	@if [ ! -d bench ]; then echo 'bench/ not present'; exit 1; fi
	cd bench && go run .

bench-quick: fixtures
	@if [ ! -d bench ]; then echo 'bench/ not present'; exit 1; fi
	cd bench && go run . -quick

# The soak tests check their own counters; BERTH_SOAK=1 asks for the full
# 200 sequential + 50 parallel lifecycles. Files that need more than that
# can carry the soak build tag.
soak: fixtures
	BERTH_SOAK=1 go test -race -count=1 -tags soak -run Soak -v -timeout 30m ./...

test-podman: fixtures
	@bash scripts/podman.sh
	DOCKER_HOST=unix:///run/podman/podman.sock go test -count=1 -timeout 20m ./internal/wire/ . ./network/ ./modules/... ./container/ ./wait/ ./build/...
	@bash scripts/podman-rootless.sh >/dev/null
	BERTH_ROOTLESS_PODMAN=$${BERTH_PODMAN_USER:-berthpod} go test -count=1 -run '^TestRootlessPodmanFoundBySearch$$' -v .

test-podman-slice: fixtures
	@bash scripts/podman-slice.sh

leftovers:
	@bash scripts/leftovers.sh

cross:
	@bash scripts/cross.sh
