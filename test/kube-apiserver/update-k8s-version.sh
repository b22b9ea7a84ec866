#!/usr/bin/env bash
# Moves the harness to another Kubernetes release:
#   test/kube-apiserver/update-k8s-version.sh v1.37.2
# Reads that release's own go.mod through the Go module proxy, rewrites the
# `replace` block so every k8s.io staging module maps to the matching published
# v0.X.Y, pins etcd at the version k8s.io/apiserver v0.X.Y requires, then runs
# `go mod tidy`. Review the diff, then run build.sh.
set -euo pipefail

version="${1:?usage: $0 v1.X.Y}"
[[ "$version" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || { echo "want v1.X.Y, got $version" >&2; exit 2; }
staging_version="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

gomod_of() { # module@version -> path of its go.mod in the module cache
  go mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p'
}

k8s_mod="$(gomod_of "k8s.io/kubernetes@$version")"
go_directive="$(awk '$1 == "go" { print $2; exit }' "$k8s_mod")"
modules="$(awk '/^replace \(/ { inside = 1; next } inside && /^\)/ { inside = 0 } inside && $2 == "=>" && $3 ~ /^\.\/staging\// { print $1 }' "$k8s_mod")"
[[ -n "$modules" ]] || { echo "no staging replace block in $k8s_mod" >&2; exit 1; }

apiserver_mod="$(gomod_of "k8s.io/apiserver@$staging_version")"
etcd_version="$(awk '$1 == "go.etcd.io/etcd/server/v3" { print $2; exit }' "$apiserver_mod")"
[[ -n "$etcd_version" ]] || { echo "k8s.io/apiserver $staging_version does not require etcd server" >&2; exit 1; }

{
  printf 'module trailkeeper.local/test/kube-apiserver\n\ngo %s\n\ngodebug default=go%s\n\n' "$go_directive" "$(cut -d. -f1,2 <<<"$go_directive")"
  printf 'require (\n\tgo.etcd.io/etcd/server/v3 %s\n\tk8s.io/kubernetes %s\n)\n\n' "$etcd_version" "$version"
  printf "// k8s.io/kubernetes requires its staging modules at v0.0.0; map each one (the\n"
  printf "// replace block of k8s.io/kubernetes %s's own go.mod) to the published %s.\n" "$version" "$staging_version"
  printf '// Regenerate with ./update-k8s-version.sh <v1.X.Y>.\nreplace (\n'
  for m in $modules; do printf '\t%s => %s %s\n' "$m" "$m" "$staging_version"; done
  printf ')\n'
} >go.mod
rm -f go.sum
go mod tidy
echo "go.mod now pins k8s.io/kubernetes $version, staging $staging_version, etcd $etcd_version (go $go_directive)" >&2
