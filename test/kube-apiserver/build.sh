#!/usr/bin/env bash
# Builds the kube-apiserver test harness (real kube-apiserver + embedded etcd in
# one Go binary) into <repo>/.tools/kube-apiserver/kube-apiserver-harness.
#
# The build is skipped when main.go, go.mod, go.sum, this script and the Go
# version are unchanged since the last successful build (their hash is stored
# beside the binary). Needs only Go >= 1.26 and the Go module proxy.
#
#   test/kube-apiserver/build.sh            # build if needed, print the binary path last
#   test/kube-apiserver/build.sh --force    # rebuild
#
# Environment: KUBE_APISERVER_HARNESS_DIR overrides the output folder;
# GOMODCACHE / GOCACHE are honoured as usual (cache them in CI: the first
# build downloads ~hundreds of MB of modules and compiles for several minutes).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out_dir="${KUBE_APISERVER_HARNESS_DIR:-$root/.tools/kube-apiserver}"
bin="$out_dir/kube-apiserver-harness"
stamp="$bin.inputs.sha256"
force=0
[[ "${1:-}" == "--force" ]] && force=1

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: go is not installed (need Go >= 1.26)" >&2
  exit 1
fi
mkdir -p "$out_dir"

# Serialise concurrent builds (e.g. parallel test jobs) on one machine.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$out_dir/.build.lock"
  flock 9
fi

inputs_hash() {
  {
    (cd "$here" && sha256sum main.go go.mod go.sum build.sh)
    (cd "$here" && go version)
    go env GOOS GOARCH
  } | sha256sum | cut -d' ' -f1
}

want="$(inputs_hash)"
if [[ $force -eq 0 && -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "build.sh: $bin is up to date (inputs hash ${want:0:12})" >&2
  echo "$bin"
  exit 0
fi

# Stamp the Kubernetes version into the binary, as the release build does:
# without it /version reports v0.0.0-master, which kubectl warns about and
# Helm's kubeVersion checks reject.
k8s_version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "$here/go.mod")"
[[ "$k8s_version" =~ ^v1\.([0-9]+)\. ]] || { echo "build.sh: no k8s.io/kubernetes v1.X.Y in go.mod" >&2; exit 1; }
k8s_minor="${BASH_REMATCH[1]}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor -X $pkg.gitTreeState=clean"
done

echo "build.sh: building $bin (Kubernetes $k8s_version) with $(cd "$here" && go version) (first build: several minutes, several GB of RAM)" >&2
start=$(date +%s)
rm -f "$stamp"
(
  cd "$here"
  # -mod=readonly: go.mod/go.sum are complete; never rewrite them here.
  go build -mod=readonly -trimpath -ldflags="$ldflags" -o "$bin.tmp" .
)
mv -f "$bin.tmp" "$bin"
echo "$want" >"$stamp"
end=$(date +%s)
echo "build.sh: built $bin ($(du -h "$bin" | cut -f1)) in $((end - start))s" >&2
echo "$bin"
