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
# kcp APIResourceSchemas are immutable, so a changed schema needs a new name.
# apigen names a schema v<YYMMDD>-<git HEAD>.<resource>.<group> (and keeps the
# previous file when the schema did not change); this script then renames it to
# v<digest>.<resource>.<group>, the digest being the SHA-256 of the file without
# its name, and rewrites the APIExports to match. Names thus depend on content
# only: running twice changes nothing, and any change gets a new name.
# apigen keeps every field of an existing apiexport-*.yaml except
# spec.resources, so hand-written fields there (permission claims, ...)
# survive; that is why a redirected run is seeded with the committed files.
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

# Content-derived schema names (see the top of this file).
for schema in "${OUT}"/exports/resources/apiresourceschema-*.yaml; do
	old="$(sed -n 's/^  name: //p' "${schema}")"
	digest="$(grep -v '^  name: ' "${schema}" | sha256sum | cut -c1-12)"
	new="v${digest}.${old#*.}"
	if [[ "${old}" != "${new}" ]]; then
		sed -i "s/^  name: ${old//./\\.}\$/  name: ${new}/" "${schema}"
		sed -i "s/^\(    schema: \)${old//./\\.}\$/\1${new}/" "${OUT}"/exports/resources/apiexport-*.yaml
	fi
done

# API reference (docs/api-reference.md) from the Go doc comments of apis/.
mkdir -p "${OUT}/docs" && go run ./hack/gen-api-docs -root "${REPO_ROOT}" -out "${OUT}/docs/api-reference.md"
