# berth: set-up and test commands. `make demo` and `make test` work on a
# fresh Debian machine as root: they start an engine and build the fixture
# images first.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

.PHONY: engine fixtures test demo fuzz bench bench-quick soak test-podman

engine:
	@bash scripts/engine.sh

fixtures: engine
	@bash scripts/fixtures.sh

test: fixtures
	@bash scripts/test.sh

demo: fixtures
	go test -count=1 -v ./examples/...

fuzz:
	@BERTH_FUZZTIME=30s bash -c 'grep -rhoE --include="*_test.go" "^func Fuzz[A-Za-z0-9_]+" . -H | grep -v "^./bench/" | sed -E "s/^(.*):func (Fuzz[A-Za-z0-9_]+)$$/\1 \2/" | sort -u | while read -r f n; do echo "== $$n"; go test -run "^$$" -fuzz "^$$n\$$" -fuzztime $$BERTH_FUZZTIME ./$$(dirname $$f) || exit 1; done'

bench: fixtures
	cd bench && go run .

bench-quick: fixtures
	cd bench && go run . -quick

soak: fixtures
	BERTH_SOAK=1 go test -race -count=1 -run 'TestSoak' -v -timeout 30m .

test-podman: fixtures
	@bash scripts/podman.sh
	DOCKER_HOST=unix:///run/podman/podman.sock go test -count=1 -timeout 20m ./internal/wire/ . ./network/ ./modules/... ./container/
