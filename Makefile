# syncd developer tasks. `make help` lists them; `make test` is what CI runs.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO ?= go
GOBIN ?= $(shell $(GO) env GOPATH)/bin

# golangci-lint is built from the module proxy at this version (no prebuilt
# binaries can be downloaded here) and cached in GOBIN.
GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT := $(GOBIN)/golangci-lint

# Every package of the module. (No package may live below a directory named
# vendor: the go tool takes it for vendored code, skips it in ./... and refuses
# to import it, which is why the vendor clients are in internal/vendors/.)
PKGS := ./...

# How much each fuzz target runs in fuzz/smoke (and so in `make test`): a
# count of executions, not a duration. Go 1.26's fuzz coordinator can fail a
# duration-bounded run with a bare "context deadline exceeded" when a worker
# is mid-call at the deadline on a busy machine (golang/go#75804, fixed in
# Go 1.27); a count has no deadline to race. 20000 runs take 2–10 s a target.
FUZZTIME ?= 20000x
BENCHTIME ?= 1s
# How many executions fuzz/corpus gives each target before keeping a sample.
FUZZCORPUSTIME ?= 500000x
# Race-enabled integration tests start containers; leave them room.
TEST_TIMEOUT ?= 20m

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

# testcontainers on machines without a registry or a privileged reaper: no
# Ryuk (every test terminates its containers), and reach mapped ports on the
# loopback address. Both can be overridden from the environment.
export TESTCONTAINERS_RYUK_DISABLED ?= true
export TESTCONTAINERS_HOST_OVERRIDE ?= 127.0.0.1

# The PostgreSQL image scripts/pg-test-image.sh builds from Debian packages.
# The tests use it (through SYNCD_TEST_PG_IMAGE) when it exists locally and
# the caller has not chosen an image.
PG_TEST_IMAGE := syncd-test/postgres:15
with_pg_image = if [ -z "$${SYNCD_TEST_PG_IMAGE:-}" ] && docker image inspect $(PG_TEST_IMAGE) >/dev/null 2>&1; then \
	export SYNCD_TEST_PG_IMAGE=$(PG_TEST_IMAGE); fi; \
	echo "SYNCD_TEST_PG_IMAGE=$${SYNCD_TEST_PG_IMAGE:-(unset: the tests choose)}"

# CI must run the tests, not replay cached results of an earlier run.
ifeq ($(CI),true)
GOTESTFLAGS += -count=1
endif

.PHONY: help
help: ## list the tasks
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_\/-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: test
# go test replays every committed corpus entry (seeds and past findings) as
# ordinary cases; fuzz/smoke then explores each target for FUZZTIME, a few
# seconds, so every change is fuzzed a little before it lands. An input it
# finds fails the gate, as it should: it is a bug, and is fixed and committed
# to the corpus. The long exploration is fuzz/corpus.
test: vet lint test/race fuzz/smoke compose/smoke chaos/short ## the CI test command: vet, lint, race tests (Docker), a few seconds of fuzzing per target, compose smoke, short reliability suite

.PHONY: test/race
test/race: ## go test -race on every package, Docker integration tests included
	@$(with_pg_image); \
	$(GO) test -race -timeout $(TEST_TIMEOUT) $(GOTESTFLAGS) $(PKGS)

.PHONY: test/short
test/short: ## unit tests only (-short): no Docker needed
	$(GO) test -short $(GOTESTFLAGS) $(PKGS)

.PHONY: vet
vet: ## go vet
	$(GO) vet $(PKGS)

.PHONY: lint
lint: tools ## golangci-lint with .golangci.yml (formatting included)
	$(GOLANGCI_LINT) run $(PKGS)

.PHONY: fmt
fmt: tools ## rewrite files with gofmt and gci import sections
	$(GOLANGCI_LINT) fmt $(PKGS)

.PHONY: fuzz/smoke
fuzz/smoke: ## run every Fuzz target in the repository for FUZZTIME each
	@targets=$$($(GO) test -list '^Fuzz' $(PKGS) | \
		awk '/^Fuzz/ {names[n++] = $$1; next} /^ok/ {for (i = 0; i < n; i++) print $$2 " " names[i]; n = 0}'); \
	if [ -z "$$targets" ]; then echo "fuzz/smoke: no fuzz targets"; exit 0; fi; \
	echo "$$targets" | while read -r pkg name; do \
		echo "==> fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
	done

.PHONY: fuzz/corpus
fuzz/corpus: ## fuzz every target for FUZZCORPUSTIME and keep a sample of what it found in testdata/fuzz
	@targets=$$($(GO) test -list '^Fuzz' $(PKGS) | \
		awk '/^Fuzz/ {names[n++] = $$1; next} /^ok/ {for (i = 0; i < n; i++) print $$2 ":" names[i]; n = 0}' | \
		sed 's|^$(shell $(GO) list -m)/||'); \
	bash scripts/fuzz-corpus.sh -t $(FUZZCORPUSTIME) $$targets

.PHONY: compose/smoke
compose/smoke: ## bring docker-compose.yml up on local images, wait for candles, check status, bring it down
	bash scripts/compose-smoke.sh

.PHONY: bench
bench: bench/go bench/e2e ## Go benchmarks, then the end-to-end run that writes docs/benchmarks.md (Docker; ~10 min)

# Only packages that have benchmarks run: in the others, TestMain would start
# a PostgreSQL container for nothing (-list under -short starts none).
.PHONY: bench/go
bench/go: ## every Go benchmark (figures only, no assertions on time; store benchmarks use Docker)
	@$(with_pg_image); \
	pkgs=$$($(GO) test -short -list '^Benchmark' $(PKGS) | \
		awk '/^Benchmark/ {n++; next} /^ok/ {if (n) print $$2; n = 0}'); \
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $$pkgs

# Flags for cmd/syncbench, e.g. SYNCBENCH_FLAGS=-quick for a one-minute run.
SYNCBENCH_FLAGS ?=

.PHONY: bench/e2e
bench/e2e: ## end-to-end benchmark into docs/benchmarks.md (SYNCBENCH_FLAGS=-quick: ~1 min)
	GO=$(GO) bash scripts/bench.sh $(SYNCBENCH_FLAGS)

# The reliability suite (internal/chaos, build tag chaos): the real binary,
# the simulator and PostgreSQL in Docker, broken on purpose. Extra flags for
# the test binary go in CHAOSFLAGS, e.g. CHAOSFLAGS=-chaos.seed=7.
CHAOS_TIMEOUT ?= 30m
CHAOSFLAGS ?=
# Both runs pad every spacing by 100 ms rather than syncd's default 10 ms: the
# scenarios run in parallel on the same cores as the in-process simulator, and
# a request's arrival there is at times delayed by far more than 10 ms (a full
# run saw two requests sent 60 ms apart arrive 45 ms apart; a CI run with 50 ms
# saw two sent 2.05 s apart arrive 1.956 s apart), which the strict simulator
# refuses; the suite should fail for a governor bug, not for its own load.
# CHAOS_MARGIN= (empty) runs with syncd's default.
CHAOS_MARGIN ?= 100ms
chaos_margin = $(if $(CHAOS_MARGIN),-chaos.quota-margin=$(CHAOS_MARGIN))
chaos_test = @$(with_pg_image); \
	$(GO) test -tags chaos -count=1 ./internal/failpoint/ && \
	$(GO) test -tags chaos -count=1 -v -parallel 8 -timeout $(CHAOS_TIMEOUT) ./internal/chaos/... -args

.PHONY: chaos
chaos: ## reliability suite, full: 50 kills, failpoints, outages, 5 min of vendor faults (Docker)
	$(chaos_test) -chaos.kills=50 -chaos.faults-for=5m $(chaos_margin) $(CHAOSFLAGS)

.PHONY: chaos/short
chaos/short: ## reliability suite, CI size (in make test): 24 kills, 1 min of vendor faults (Docker)
	$(chaos_test) -chaos.kills=24 -chaos.faults-for=1m $(chaos_margin) $(CHAOSFLAGS)

.PHONY: build
build: ## build bin/syncd with version and commit stamped in
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/syncd ./cmd/syncd

.PHONY: tools
tools: ## install the pinned golangci-lint into GOBIN unless that version is there
	@if $(GOLANGCI_LINT) --version 2>/dev/null | grep -q "version $(GOLANGCI_LINT_VERSION:v%=%) "; then \
		echo "golangci-lint $(GOLANGCI_LINT_VERSION) present"; \
	else \
		echo "installing golangci-lint $(GOLANGCI_LINT_VERSION)"; \
		GOBIN=$(GOBIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION); \
	fi

.PHONY: clean
clean: ## remove build output
	rm -rf bin
