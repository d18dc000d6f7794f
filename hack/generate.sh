#!/usr/bin/env bash
# Copyright The Atrium Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Regenerates everything derived from the Go types in apis/:
#   - apis/**/zz_generated.deepcopy.go         (controller-gen object)
#   - exports/crds/<group>_<resource>.yaml      (controller-gen crd, all groups)
#   - exports/resources/apiresourceschema-*.yaml and apiexport-*.yaml
#                                               (kcp apigen, tenant and platform groups)
#
# ATRIUM_GENERATE_OUT redirects all output to another root (default: the repo),
# which is how exports/stale_test.go checks that the committed files are fresh.
#
# apigen names a schema v<YYMMDD>-<git HEAD>.<resource>.<group> and keeps the
# previous file (and name) when a schema did not change, so running this twice
# changes nothing, and a changed schema gets a new name (kcp schemas are
# immutable). For that reason a redirected run is seeded with the committed
# schemas. apigen also keeps every field of an existing apiexport-*.yaml except
# spec.resources, so hand-written fields there (permission claims, ...) survive.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${ATRIUM_GENERATE_OUT:-${REPO_ROOT}}"
CONTROLLER_GEN="${CONTROLLER_GEN:-${REPO_ROOT}/bin/controller-gen}"
APIGEN="${APIGEN:-${REPO_ROOT}/bin/apigen}"
HEADER="${REPO_ROOT}/hack/boilerplate.go.txt"

# Groups served from kcp (tenant-facing export, and the platform export in
# root:atrium). compute.atrium.dev is a plain CRD group on compute clusters.
KCP_GROUPS=(workspaces.atrium.dev platform.atrium.dev)

for tool in "${CONTROLLER_GEN}" "${APIGEN}"; do
	if [[ ! -x "${tool}" ]]; then
		echo "missing ${tool}: run 'make tools' first" >&2
		exit 1
	fi
done

cd "${REPO_ROOT}"
OUT="$(mkdir -p "${OUT}" && cd "${OUT}" && pwd)"

tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT

# Deepcopy, one package at a time so the output can be redirected per package.
while IFS= read -r pkg; do
	mkdir -p "${OUT}/${pkg}"
	"${CONTROLLER_GEN}" object:headerFile="${HEADER}" paths="./${pkg}" output:object:dir="${OUT}/${pkg}"
done < <(find apis -name doc.go -exec dirname {} \; | LC_ALL=C sort)

# CRDs for every group. Start from an empty directory so removed kinds vanish.
mkdir -p "${OUT}/exports/crds"
rm -f "${OUT}"/exports/crds/*.yaml
"${CONTROLLER_GEN}" crd:allowDangerousTypes=false paths=./apis/... output:crd:artifacts:config="${tmp}/crds"
cp "${tmp}"/crds/*.yaml "${OUT}/exports/crds/"

# APIResourceSchemas and APIExports for the groups kcp serves.
mkdir -p "${tmp}/apigen-in" "${OUT}/exports/resources"
for group in "${KCP_GROUPS[@]}"; do
	cp "${tmp}/crds/${group}"_*.yaml "${tmp}/apigen-in/"
done
if [[ "${OUT}" != "${REPO_ROOT}" ]]; then
	rm -f "${OUT}"/exports/resources/*.yaml
	if compgen -G "${REPO_ROOT}/exports/resources/*.yaml" >/dev/null; then
		cp "${REPO_ROOT}"/exports/resources/*.yaml "${OUT}/exports/resources/"
	fi
fi
# apigen logs every file it touches; keep that out of the way unless it fails.
if ! "${APIGEN}" --input-dir "${tmp}/apigen-in" --output-dir "${OUT}/exports/resources" >"${tmp}/apigen.log" 2>&1; then
	cat "${tmp}/apigen.log" >&2
	exit 1
fi
