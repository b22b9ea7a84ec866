#!/usr/bin/env bash
# Copies the CRD manifests from crds/ (generated from core/src/crd/ by `node core/src/crd/generate.ts`) into the
# chart, which renders them from files/crds/ behind crds.enabled. crds/ stays the one source of truth:
# test/integration/chart/crds.test.ts fails when the copies differ. Run after regenerating the CRDs:
#   charts/sync-crds.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/charts/trailkeeper/files/crds"
mkdir -p "$dest"
rm -f "$dest"/*.yaml
cp "$root"/crds/*.yaml "$dest"/
ls "$dest"
