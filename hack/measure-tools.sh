#!/usr/bin/env bash
# Copyright The Atrium Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Measures `make tools` from an empty Go build cache (the module cache is kept: downloads are not
# what is measured), once for each TOOLS_JOBS in JOBS (default "1 2": one tool module at a time,
# then two), each into a scratch bin/ that is removed afterwards. Prints wall and CPU seconds per
# run; the faster setting belongs in the Makefile's TOOLS_JOBS.
#
# Each run is a cold build of kcp and Kubernetes: about half an hour of both CPUs. Run it on an
# otherwise idle machine, or the figures measure the other load.
set -euo pipefail

cd "$(dirname "$0")/.."
JOBS="${JOBS:-1 2}"
TIMEFORMAT='%R %U %S'
echo "| TOOLS_JOBS | wall s | user s | sys s | load before |"
echo "|---:|---:|---:|---:|---|"
for jobs in ${JOBS}; do
	scratch="$(mktemp -d)"
	load="$(cut -d' ' -f1-3 /proc/loadavg)"
	if ! { time GOCACHE="${scratch}/cache" make --no-print-directory BIN="${scratch}/bin" TOOLS_JOBS="${jobs}" tools >"${scratch}/make.log" 2>&1; } 2>"${scratch}/time"; then
		echo "make tools failed with TOOLS_JOBS=${jobs}; log kept in ${scratch}/make.log" >&2
		exit 1
	fi
	read -r wall user sys <"${scratch}/time"
	echo "| ${jobs} | ${wall} | ${user} | ${sys} | ${load} |"
	rm -rf "${scratch}"
done
