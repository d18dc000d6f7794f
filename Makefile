# Atrium — run `make help` for the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(CURDIR)
BIN  := $(ROOT)/bin
GO   ?= go
export GOFLAGS ?= -buildvcs=false
# Tests find the test-bed binaries here.
export ATRIUM_BIN_DIR := $(BIN)

# ---- tools: every binary the test bed and generators need, built from pinned Go modules ----
# A binary is rebuilt when its tools module's go.mod or go.sum changes.
KCP_TOOLS   := $(BIN)/kcp $(BIN)/cache-server $(BIN)/kcp-front-proxy $(BIN)/apigen
KUBE_TOOLS  := $(BIN)/kube-apiserver $(BIN)/kube-controller-manager $(BIN)/kube-scheduler $(BIN)/kubectl
OTHER_TOOLS := $(BIN)/etcd $(BIN)/kwok $(BIN)/controller-gen $(BIN)/golangci-lint
TOOLS       := $(KCP_TOOLS) $(KUBE_TOOLS) $(OTHER_TOOLS)

tooldeps = hack/tools/$(1)/go.mod hack/tools/$(1)/go.sum

# Binaries built from modules report v0.0.0-master unless told their version; version checks
# (kubectl version, Helm's kubeVersion, skew checks) need the real one.
KCP_VERSION  := v0.31.2
KUBE_VERSION := v1.35.1
ETCD_VERSION := v3.6.16
KWOK_VERSION := v0.8.0
kubever = -X $(1).gitVersion=$(2) -X $(1).gitMajor=$(word 2,$(subst ., ,$(subst v,v ,$(3)))) -X $(1).gitMinor=$(word 2,$(subst ., ,$(3))) -X $(1).gitTreeState=clean
# The tools are linked without symbol table and DWARF (-s -w), as Kubernetes releases are: stack
# traces keep their function names and lines, and linking kcp takes about 30% less CPU (17.5 s
# against 24.8 s, measured) for a binary of 121 MB instead of 173 MB.
TOOL_LDFLAGS := -s -w
KCP_LDFLAGS  := $(TOOL_LDFLAGS) \
                $(call kubever,k8s.io/component-base/version,$(KUBE_VERSION)+kcp-$(KCP_VERSION),$(KUBE_VERSION)) \
                $(call kubever,k8s.io/client-go/pkg/version,$(KUBE_VERSION)+kcp-$(KCP_VERSION),$(KUBE_VERSION))
KUBE_LDFLAGS := $(TOOL_LDFLAGS) \
                $(call kubever,k8s.io/component-base/version,$(KUBE_VERSION),$(KUBE_VERSION)) \
                $(call kubever,k8s.io/client-go/pkg/version,$(KUBE_VERSION),$(KUBE_VERSION))

$(KCP_TOOLS) &: $(call tooldeps,kcp)
	@echo ">> building kcp, cache-server, kcp-front-proxy, apigen (github.com/kcp-dev/kcp $(KCP_VERSION))"
	cd hack/tools/kcp && $(GO) build -ldflags '$(KCP_LDFLAGS)' -o $(BIN)/ github.com/kcp-dev/kcp/cmd/kcp github.com/kcp-dev/kcp/cmd/cache-server github.com/kcp-dev/kcp/cmd/kcp-front-proxy github.com/kcp-dev/sdk/cmd/apigen
	@touch $(KCP_TOOLS)

$(KUBE_TOOLS) &: $(call tooldeps,kube)
	@echo ">> building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (k8s.io/kubernetes $(KUBE_VERSION))"
	cd hack/tools/kube && $(GO) build -ldflags '$(KUBE_LDFLAGS)' -o $(BIN)/ k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
	@touch $(KUBE_TOOLS)

$(BIN)/etcd: $(call tooldeps,etcd)
	@echo ">> building etcd (go.etcd.io/etcd/server/v3 $(ETCD_VERSION))"
	cd hack/tools/etcd && $(GO) build -ldflags '$(TOOL_LDFLAGS)' -o $@ go.etcd.io/etcd/server/v3

$(BIN)/kwok: $(call tooldeps,kwok)
	@echo ">> building kwok (sigs.k8s.io/kwok $(KWOK_VERSION))"
	cd hack/tools/kwok && $(GO) build -ldflags '$(TOOL_LDFLAGS)' -o $@ sigs.k8s.io/kwok/cmd/kwok

$(BIN)/controller-gen: $(call tooldeps,controller-gen)
	@echo ">> building controller-gen"
	cd hack/tools/controller-gen && $(GO) build -ldflags '$(TOOL_LDFLAGS)' -o $@ sigs.k8s.io/controller-tools/cmd/controller-gen

$(BIN)/golangci-lint: $(call tooldeps,golangci-lint)
	@echo ">> building golangci-lint"
	cd hack/tools/golangci-lint && $(GO) build -ldflags '$(TOOL_LDFLAGS)' -o $@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

# TOOLS_JOBS targets are built at once. Each `go build` keeps both CPUs busy while it compiles,
# but a cold build also waits on module downloads and on single-threaded links, and a second and
# third build fill those gaps. hack/measure-tools.sh measures settings against each other from an
# empty build cache.
TOOLS_JOBS ?= 4

.PHONY: tools
tools: ## Build the test bed (kcp, etcd, kube-*, kwok) and code tools into bin/ from Go modules, when missing or out of date.
	@$(MAKE) --no-print-directory -j$(TOOLS_JOBS) $(TOOLS)

# ---- build ----
.PHONY: build
build: ## Build atrium, atrium-hub, atrium-agent and atrium-console into bin/.
	$(GO) build -o $(BIN)/ ./cmd/...

.PHONY: generate
generate: $(BIN)/controller-gen $(BIN)/apigen ## Regenerate deepcopy, CRDs and APIResourceSchemas.
	hack/generate.sh

.PHONY: lint
lint: $(BIN)/golangci-lint ## Run go vet and golangci-lint.
	$(GO) vet ./...
	$(BIN)/golangci-lint run ./...

# ---- test ----
TEST_TIMEOUT ?= 30m
TEST_FLAGS   ?=
# Everything outside test/, plus the test bed's own tests (its TCP proxy), which need no test bed.
UNIT_PKGS     = $$($(GO) list ./... | grep -v /test/) ./test/testbed/

# `make test` runs its stages one after the other, also under `make -j` (GNU make 4.3 has no
# .WAIT). The first stage builds side by side what has no waits that could time out: the tools,
# Atrium's binaries, the lint run, the unit tests' race-detector build, the short fuzz run (3 s per
# target: what takes time is its instrumented build) and the browser install; downloads and
# single-threaded links of one fill the CPU gaps of the others (from empty caches this stage is
# most of a cold run), and the goals are listed longest first, so kcp and Kubernetes start at once. The unit tests and the e2e
# suites then run alone: they wait on conditions with timeouts, and a build beside them only slows
# them down until those waits time out.
.PHONY: test
test: ## Run everything CI runs: lint, unit tests (race detector), a short fuzz run and the e2e suites on the real test bed.
	@$(MAKE) --no-print-directory --output-sync=line -j$(TOOLS_JOBS) $(KCP_TOOLS) $(KUBE_TOOLS) chromium $(BIN)/golangci-lint build lint test-unit-build test-fuzz-short $(BIN)/etcd $(BIN)/kwok $(BIN)/controller-gen
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-e2e

# Compiles every library package, and so every dependency, with the race detector (what a cold
# test-unit spends most of its time on; test binaries are linked by each go test anew, so they are
# left to test-unit); `make test` does it in its first stage, beside the tool builds.
.PHONY: test-unit-build
test-unit-build:
	$(GO) build -race $$($(GO) list -f '{{if and .GoFiles (ne .Name "main")}}{{.ImportPath}}{{end}}' ./...)

.PHONY: test-unit
test-unit: $(BIN)/controller-gen $(BIN)/apigen ## Run the tests that need no test bed, with the race detector.
	$(GO) test -race -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) $(UNIT_PKGS)

# -count=1: e2e results must never come from Go's test cache, which does not see the binaries
# the suites start (bin/atrium-agent, bin/kcp, ...). E2E_PARALLEL packages (each with its own
# test bed) run at once; it also bounds how many of their test binaries are built at once.
E2E_PARALLEL ?= 2
# The console's browser tests drive Debian's Chromium; install it from Debian's packages when it is
# missing (as root, as CI runs; never a browser downloaded from elsewhere).
CHROMIUM ?= /usr/bin/chromium

.PHONY: chromium
chromium: ## Install Debian's chromium package for the console's browser tests, when /usr/bin/chromium is missing.
	@test -x $(CHROMIUM) || { echo ">> installing Debian's chromium for the console's browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }
	@test -x $(CHROMIUM) || { echo "chromium: $(CHROMIUM) is still missing; install Debian's chromium package"; exit 1; }

.PHONY: test-e2e
test-e2e: tools build chromium ## Run the e2e suites on the real test bed (kcp + compute clusters), one test bed per package, and the benchmark smoke test.
	$(GO) test -count=1 -p $(E2E_PARALLEL) -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./test/e2e/... ./test/bench/

.PHONY: test-fuzz-short
test-fuzz-short: ## Fuzz every parser of tenant input briefly (3s each), as part of make test.
	$(MAKE) --no-print-directory fuzz FUZZTIME=3s

# ---- run ----
STATE_DIR ?= $(ROOT)/.atrium
RUN_ARGS  ?=

.PHONY: run
run: tools build ## Start the local platform in the foreground (state in .atrium/); Ctrl-C stops it.
	$(BIN)/atrium dev up --state-dir $(STATE_DIR) $(RUN_ARGS)

.PHONY: clean
clean: ## Remove built binaries (bin/) and the local platform state (.atrium/).
	rm -rf $(BIN) $(STATE_DIR)

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# ---- charts and images ----
IMAGE_REGISTRY ?= ghcr.io/atrium-dev
IMAGE_TAG      ?= dev
DOCKER         ?= docker
IMAGES         := atrium-agent atrium-hub atrium-console atrium

.PHONY: chart-crds
chart-crds: ## Copy the compute CRDs and example access strategies into the atrium-agent chart.
	cp exports/crds/compute.atrium.dev_*.yaml deploy/charts/atrium-agent/crds/
	cp deploy/strategies/*.yaml deploy/charts/atrium-agent/files/strategies/

.PHONY: helm-lint
helm-lint: ## Lint and render the Helm charts with several values sets (Helm library, no helm binary needed).
	$(GO) test -count=1 ./deploy/charts/

.PHONY: docker-build
docker-build: ## Build the images atrium-agent, atrium-hub and atrium (needs a container engine; IMAGE_REGISTRY, IMAGE_TAG).
	@for img in $(IMAGES); do \
	  echo ">> building $(IMAGE_REGISTRY)/$$img:$(IMAGE_TAG)"; \
	  $(DOCKER) build -f build/Dockerfile.$$img --build-arg VERSION=$(IMAGE_TAG) -t $(IMAGE_REGISTRY)/$$img:$(IMAGE_TAG) . ; \
	done

# ---- benchmarks ----
BENCH_N    ?= 1000
BENCH_ORGS ?= 50

.PHONY: bench
bench: tools build ## Run the benchmarks (test/bench) on the real test bed: BENCH_N workspaces (1000) over BENCH_ORGS orgs (50); writes _output/bench/results.json, pprof profiles in _output/bench/profiles/ and BENCHMARKS.md (BENCH_COMPARE=before.json=after.json tables earlier runs).
	ATRIUM_BENCH=1 BENCH_N=$(BENCH_N) BENCH_ORGS=$(BENCH_ORGS) $(GO) test ./test/bench/ -run '^TestBench$$' -count=1 -timeout 150m -v
	$(MAKE) --no-print-directory bench-console

BENCH_SESSIONS        ?= 100
BENCH_CONSOLE_MINUTES ?= 10

.PHONY: bench-console
bench-console: tools build ## Benchmark the console alone: BENCH_SESSIONS (100) signed-in sessions with live updates; requests to kcp per minute and console RSS → _output/bench/console.json and BENCHMARKS-console.md.
	ATRIUM_BENCH=1 BENCH_SESSIONS=$(BENCH_SESSIONS) BENCH_CONSOLE_MINUTES=$(BENCH_CONSOLE_MINUTES) $(GO) test ./test/bench/console/ -run '^TestConsoleBench$$' -count=1 -timeout 60m -v

# ---- reliability and security ----
$(BIN)/govulncheck: $(call tooldeps,govulncheck)
	@echo ">> building govulncheck (golang.org/x/vuln v1.8.0)"
	cd hack/tools/govulncheck && $(GO) build -o $@ golang.org/x/vuln/cmd/govulncheck

.PHONY: flakehunt
flakehunt: ## Run `make test-e2e` RUNS (5) times and the fault suite's short form FAULT_RUNS (10) times in a row, LOAD (0) busy loops beside; times and failures in _output/flakehunt/.
	hack/flakehunt.sh

.PHONY: test-faults
test-faults: tools build ## Run the full fault and bad-input suite (ATRIUM_FAULTS=full) on the real test bed and print its table.
	ATRIUM_FAULTS=full $(GO) test -count=1 -v -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./test/e2e/faults/

# Every fuzz target of tenant input; `make test` runs their seed corpora as unit tests.
FUZZTIME    ?= 30s
FUZZ_TARGETS = agent/access:FuzzRenderResources agent/access:FuzzRenderURL agent/activity:FuzzParse \
               agent/activity:FuzzResolve hub/templates:FuzzImageAllowed hub/templates:FuzzResolveBounds

.PHONY: fuzz
fuzz: ## Fuzz every parser of tenant input for FUZZTIME each (default 30s).
	@for t in $(FUZZ_TARGETS); do \
	  echo ">> fuzzing $${t#*:} in ./$${t%%:*} for $(FUZZTIME)"; \
	  $(GO) test ./$${t%%:*}/ -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME); \
	done

# govulncheck reads the Go vulnerability database. By default it is built locally from the pinned
# golang.org/x/vulndb module (hack/tools/vulndb: its OSV entries laid out by its own indexdb), so
# the check needs nothing but the Go module proxy; move that module's version forward for newer
# entries. VULN_DB=https://vuln.go.dev (or file:///a/copy) uses another database.
VULN_DB ?= file://$(BIN)/vulndb

$(BIN)/vulndb/index/db.json: $(call tooldeps,vulndb)
	@echo ">> building the vulnerability database from golang.org/x/vulndb (hack/tools/vulndb)"
	cd hack/tools/vulndb && $(GO) build -o $(BIN)/indexdb golang.org/x/vulndb/cmd/indexdb
	rm -rf $(BIN)/vulndb
	cd hack/tools/vulndb && $(BIN)/indexdb -vulns "$$($(GO) list -m -f '{{.Dir}}' golang.org/x/vulndb)/data/osv" -out $(BIN)/vulndb

.PHONY: vulncheck
vulncheck: $(BIN)/govulncheck $(if $(filter file://$(BIN)/vulndb,$(VULN_DB)),$(BIN)/vulndb/index/db.json) ## Check the module for known vulnerabilities (govulncheck; local database from golang.org/x/vulndb by default).
	@if [[ "$(VULN_DB)" == file://* ]] && ! test -s "$$(echo '$(VULN_DB)' | sed 's|^file://||')/index/modules.json"; then \
	  echo "vulncheck: $(VULN_DB) is not a copy of the vulnerability database (no index/modules.json)"; exit 1; \
	fi
	@$(BIN)/govulncheck -db $(VULN_DB) ./... || { \
	  echo "vulncheck: govulncheck found vulnerabilities (above), or could not read the database $(VULN_DB). Findings in the standard library (crypto/..., net/http@go1.X.Y) are fixed by building with a newer Go patch release, e.g. GOTOOLCHAIN=go1.26.10 make vulncheck"; exit 1; }
