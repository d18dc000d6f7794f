#!/usr/bin/env bash
# Copyright The Atrium Authors.
# SPDX-License-Identifier: Apache-2.0
#
# The flake hunt (issue #17): runs the e2e suites (`make test-e2e`) RUNS times in a row and the
# fault suite's short form FAULT_RUNS times, and records every run's time, result and failing
# tests, and every package's time, in OUT (summary.md, and one log per run).
#
#   hack/flakehunt.sh                          # 5 e2e runs, 10 fault runs
#   RUNS=1 FAULT_RUNS=0 hack/flakehunt.sh      # one e2e run
#   LOAD=2 hack/flakehunt.sh                   # on a loaded machine: 2 busy loops beside the runs
#   E2E_PARALLEL=1 hack/flakehunt.sh           # one e2e package (test bed) at a time
#
# It goes on after a failing run (a flake hunt wants them all) and exits 1 when any run failed.
# The busy loops it starts are stopped by their PIDs when it ends, also on Ctrl-C.
set -uo pipefail

cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
FAULT_RUNS="${FAULT_RUNS:-10}"
LOAD="${LOAD:-0}"
E2E_PARALLEL="${E2E_PARALLEL:-2}"
OUT="${OUT:-_output/flakehunt/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "${OUT}"
summary="${OUT}/summary.md"

load_pids=()
stop_load() {
	for pid in "${load_pids[@]}"; do
		kill "${pid}" 2>/dev/null || true
	done
}
trap stop_load EXIT
trap 'exit 130' INT TERM
for ((i = 0; i < LOAD; i++)); do
	bash -c 'while :; do :; done' &
	load_pids+=("$!")
done

{
	echo "# Flake hunt $(date -u +%Y-%m-%dT%H:%MZ)"
	echo
	echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(nproc) CPUs, LOAD=${LOAD} busy loops, E2E_PARALLEL=${E2E_PARALLEL}, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "| run | seconds | result | failed tests |"
	echo "|---|---:|---|---|"
} >"${summary}"

failed=0
# run NAME CMD...: runs CMD with its output in OUT/NAME.log and adds a line to the summary.
run() {
	local name="$1"
	shift
	local log="${OUT}/${name}.log" start rc secs result failures
	echo ">> ${name}: $* (log ${log})"
	start=$(date +%s)
	"$@" >"${log}" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	result=pass
	if [[ ${rc} -ne 0 ]]; then
		result="FAIL (exit ${rc})"
		failed=1
	fi
	# The failing tests (top level and subtests), and packages that failed without one (a test
	# bed that did not start, a timeout, a panic).
	failures=$(grep -E -- '--- FAIL: |^FAIL[[:space:]]+[^[:space:]]+|^panic: |test timed out' "${log}" |
		sed -E 's/^[[:space:]]*--- FAIL: ([^ ]+).*/\1/; s/^FAIL[[:space:]]+([^[:space:]]+).*/\1/' |
		sort -u | paste -sd ' ' -)
	echo "| ${name} | ${secs} | ${result} | ${failures:-} |" >>"${summary}"
	echo "   ${name}: ${secs}s, ${result}"
}

# The first run must not pay for building the tools and binaries.
make --no-print-directory tools build >"${OUT}/build.log" 2>&1 || {
	echo "failed to build the tools and binaries; see ${OUT}/build.log" >&2
	exit 1
}

for ((i = 1; i <= RUNS; i++)); do
	run "e2e-${i}" make --no-print-directory test-e2e E2E_PARALLEL="${E2E_PARALLEL}"
done
for ((i = 1; i <= FAULT_RUNS; i++)); do
	run "faults-${i}" env ATRIUM_BIN_DIR="${PWD}/bin" go test -count=1 -v -timeout 30m ./test/e2e/faults/
done

# Every package's time in every e2e run ("ok  <pkg> 123.4s" / "FAIL <pkg> 123.4s").
if ((RUNS > 0)); then
	{
		echo
		echo "## Seconds per package"
		echo
		printf '| package |'
		for ((i = 1; i <= RUNS; i++)); do printf ' e2e-%d |' "${i}"; done
		echo
		printf '|---|'
		for ((i = 1; i <= RUNS; i++)); do printf -- '---:|'; done
		echo
		for pkg in $(cat "${OUT}"/e2e-*.log | grep -E '^(ok|FAIL)[[:space:]]+[^[:space:]]+[[:space:]]+[0-9.]+s' | awk '{print $2}' | sort -u); do
			printf '| %s |' "${pkg#github.com/atrium-dev/atrium/}"
			for ((i = 1; i <= RUNS; i++)); do
				t=$(grep -E "^(ok|FAIL)[[:space:]]+${pkg}[[:space:]]" "${OUT}/e2e-${i}.log" | awk '{print $3}' | head -1)
				printf ' %s |' "${t:--}"
			done
			echo
		done
	} >>"${summary}"
fi
X

echo
cat "${summary}"
exit "${failed}"
