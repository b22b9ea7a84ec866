#!/usr/bin/env bash
# `make e2e-kind`: the operator e2e suite against a kind cluster that runs the real images and the chart.
#
#   1. checks the tools (kind, a running container engine, Node.js 24, the kube-apiserver harness) and the images
#   2. creates a kind cluster (or reuses one of that name) with its own kubeconfig, loads the images into it
#   3. installs PostgreSQL (postgres.yaml), the chart's Secrets and `helm install --wait` of charts/trailkeeper
#   4. checks the release in the cluster: API server /readyz (database reachable), the operator's Lease, and the
#      cluster's operator testing a LogForwardingDestination to Ready=True with its own ServiceAccount
#   5. runs the "operator" vitest project with TRAILKEEPER_TEST_KUBECONFIG pointing at the cluster
#   6. deletes the cluster it created (KEEP_CLUSTER=1 keeps it; a reused cluster is always kept)
#
# Images are built by `make images` beforehand (the Makefile target does it). Arguments are passed to vitest, e.g.
# `test/e2e-kind/run.sh test/integration/operator/helm-release.test.ts`; `--preflight` only checks the tools (the
# Makefile runs it before the long image and harness builds). docs/e2e.md describes it all.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/test/e2e-kind"
cd "$root"

cluster="${KIND_CLUSTER_NAME:-trailkeeper-e2e}"
node_image="${KIND_NODE_IMAGE:-}" # e.g. kindest/node:v1.34.0; empty: kind's default (the chart needs >= 1.29)
container_tool="${CONTAINER_TOOL:-docker}"
image_repo="${IMAGE_REPO:-ghcr.io/trailkeeper}"
image_tag="${IMAGE_TAG:-$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)}"
postgres_image="${POSTGRES_IMAGE:-postgres:17}"
keep_cluster="${KEEP_CLUSTER:-0}"
namespace=trailkeeper-system # also operator.watchNamespace in values.yaml
release=trailkeeper          # so the chart's names are trailkeeper-api-server, trailkeeper-operator, ...
api_image="$image_repo/api-server:$image_tag"
operator_image="$image_repo/operator:$image_tag"

log() { printf '\n\033[1m== e2e-kind: %s\033[0m\n' "$*" >&2; }
die() {
  printf 'e2e-kind: %s\n' "$*" >&2
  exit 1
}
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH: $2"; }

# --- 1. tools -------------------------------------------------------------------------------------------------------
need kind "install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation), v0.20 or newer"
need "$container_tool" "install Docker or Podman, or set CONTAINER_TOOL"
"$container_tool" info >/dev/null 2>&1 || die "'$container_tool info' failed: is the container engine running and may this user use it?"
if [ "$container_tool" = podman ]; then export KIND_EXPERIMENTAL_PROVIDER=podman; fi
node_dir="$("$root/scripts/ensure-node.sh")" || die "scripts/ensure-node.sh could not provide Node.js 24"
export PATH="$node_dir:$PATH"
[ -x node_modules/.bin/vitest ] || die "node_modules is missing: run 'make install' (npm ci) first"
# Helm 4 and kubectl from node_modules (scripts/ensure-helm.sh); on PATH first, so the suite's helpers use them too.
helm_bin="$("$root/scripts/ensure-helm.sh" helm)" || die "scripts/ensure-helm.sh failed (run 'make install')"
kubectl_bin="$("$root/scripts/ensure-helm.sh" kubectl)" || die "scripts/ensure-helm.sh kubectl failed"
export PATH="$(dirname "$kubectl_bin"):$(dirname "$helm_bin"):$PATH"
if [ "${1:-}" = --preflight ]; then
  echo "e2e-kind: tools found: $(kind version), $("$container_tool" --version), node $(node --version), $(helm version --short)" >&2
  exit 0
fi
# A few test files start kube-apiservers of their own (they restart them, or own the CRDs), also against kind.
[ -x "$root/.tools/kube-apiserver/kube-apiserver-harness" ] || die "the kube-apiserver harness is not built: run 'make kube-apiserver' (needs Go, see docs/kube-apiserver-harness.md)"
for image in "$api_image" "$operator_image"; do
  "$container_tool" image inspect "$image" >/dev/null 2>&1 || die "image $image not found in $container_tool: run 'make images' (IMAGE_REPO/IMAGE_TAG must match)"
done

umask 077 # the kubeconfig and the signing key written below are for this user only
work="$(mktemp -d "${TMPDIR:-/tmp}/trailkeeper-e2e-kind.XXXXXX")"
kubeconfig="$work/kubeconfig"
k() { kubectl --kubeconfig "$kubeconfig" "$@"; }
created=0

diagnostics() {
  log "diagnostics"
  k get nodes -o wide || true
  k get all,leases,logforwardingdestinations -n "$namespace" -o wide || true
  k get events -n "$namespace" --sort-by=.lastTimestamp | tail -n 40 || true
  for d in "$release-api-server" "$release-operator" postgres webhook-sink; do
    echo "--- logs of deployment/$d (last 60 lines)"
    k logs -n "$namespace" "deployment/$d" --all-containers --tail=60 --pod-running-timeout=5s || true
  done
}

finish() {
  local status=$?
  set +e
  if [ "$status" -ne 0 ] && [ -s "$kubeconfig" ]; then diagnostics; fi
  if [ "$created" = 1 ] && [ "$keep_cluster" != 1 ]; then
    log "deleting kind cluster $cluster"
    kind delete cluster --name "$cluster"
  elif [ -s "$kubeconfig" ]; then
    echo "e2e-kind: cluster '$cluster' kept: 'kind export kubeconfig --name $cluster' to use it, 'kind delete cluster --name $cluster' to remove it" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap finish EXIT

# --- 2. cluster and images ------------------------------------------------------------------------------------------
if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  log "reusing kind cluster $cluster"
  kind get kubeconfig --name "$cluster" >"$kubeconfig"
else
  log "creating kind cluster $cluster"
  created=1
  kind create cluster --name "$cluster" --kubeconfig "$kubeconfig" --wait 180s ${node_image:+--image "$node_image"}
fi
k version
k wait --for=condition=Ready nodes --all --timeout=180s

log "loading images into the cluster"
# Image archives work with Docker and Podman alike (kind load docker-image needs Docker's daemon).
if ! "$container_tool" image inspect "$postgres_image" >/dev/null 2>&1; then "$container_tool" pull "$postgres_image"; fi
for image in "$api_image" "$operator_image" "$postgres_image"; do
  "$container_tool" save -o "$work/image.tar" "$image"
  kind load image-archive "$work/image.tar" --name "$cluster"
  rm -f "$work/image.tar"
done

# --- 3. PostgreSQL, Secrets, chart ----------------------------------------------------------------------------------
log "installing PostgreSQL and the chart's Secrets in $namespace"
k create namespace "$namespace" --dry-run=client -o yaml | k apply -f -
random_hex() { node -e 'process.stdout.write(require("node:crypto").randomBytes(+process.argv[1]).toString("hex"))' "$1"; }
# Secrets are created once: a reused cluster keeps its database password and signing key.
if ! k get secret postgres -n "$namespace" >/dev/null 2>&1; then
  k create secret generic postgres -n "$namespace" --from-literal=password="$(random_hex 24)"
fi
password="$(k get secret postgres -n "$namespace" -o go-template='{{.data.password | base64decode}}')"
sed "s|image: POSTGRES_IMAGE|image: $postgres_image|" "$here/postgres.yaml" | k apply -n "$namespace" -f -
k rollout status deployment/postgres -n "$namespace" --timeout=180s

if ! k get secret "$release-database" -n "$namespace" >/dev/null 2>&1; then
  k create secret generic "$release-database" -n "$namespace" \
    --from-literal=url="postgres://trailkeeper:$password@postgres.$namespace.svc:5432/trailkeeper?sslmode=disable"
fi
if ! k get secret "$release-admin-token" -n "$namespace" >/dev/null 2>&1; then
  k create secret generic "$release-admin-token" -n "$namespace" --from-literal=token="$(random_hex 32)"
fi
if ! k get secret "$release-signing-key" -n "$namespace" >/dev/null 2>&1; then
  node -e 'process.stdout.write(require("node:crypto").generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }))' >"$work/signing-key.pem"
  k create secret generic "$release-signing-key" -n "$namespace" --from-file=signing-key.pem="$work/signing-key.pem"
  rm -f "$work/signing-key.pem"
fi

log "helm upgrade --install $release (images $api_image, $operator_image)"
helm upgrade --install "$release" charts/trailkeeper --kubeconfig "$kubeconfig" --namespace "$namespace" \
  --values "$here/values.yaml" \
  --set apiServer.image.repository="$image_repo/api-server" --set apiServer.image.tag="$image_tag" --set apiServer.image.pullPolicy=Never \
  --set operator.image.repository="$image_repo/operator" --set operator.image.tag="$image_tag" --set operator.image.pullPolicy=Never \
  --wait --timeout 5m
k rollout status "deployment/$release-api-server" -n "$namespace" --timeout=120s
k rollout status "deployment/$release-operator" -n "$namespace" --timeout=120s
k wait --for=condition=Established --timeout=60s crd/logforwardingdestinations.trailkeeper.dev crd/recordingstorages.trailkeeper.dev

# --- 4. the release in the cluster ----------------------------------------------------------------------------------
log "checking the release in the cluster"
# Through the Kubernetes API server's service proxy: no port-forward, no local port.
ready="$(k get --raw "/api/v1/namespaces/$namespace/services/http:$release-api-server:http/proxy/readyz")"
echo "API server /readyz: $ready"

holder=""
for _ in $(seq 1 60); do
  holder="$(k get lease "$release-operator" -n "$namespace" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true)"
  [ -n "$holder" ] && break
  sleep 1
done
[ -n "$holder" ] || die "no operator holds the Lease $namespace/$release-operator"
k get pod "$holder" -n "$namespace" >/dev/null || die "the Lease holder '$holder' is not an operator pod"
echo "operator leader: $holder"

sed "s|image: OPERATOR_IMAGE|image: $operator_image|" "$here/webhook-sink.yaml" | k apply -n "$namespace" -f -
k rollout status deployment/webhook-sink -n "$namespace" --timeout=120s
k create secret generic in-cluster-check -n "$namespace" --from-literal=signing-secret="whsec_$(node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64"))')" \
  --dry-run=client -o yaml | k apply -f -
k apply -n "$namespace" -f - <<EOF
apiVersion: trailkeeper.dev/v1alpha1
kind: LogForwardingDestination
metadata:
  name: in-cluster-check
spec:
  webhook:
    url: http://webhook-sink.$namespace.svc:8080/ingest
    allowInsecureHttp: true
    signingSecretRef:
      name: in-cluster-check
      key: signing-secret
EOF
k wait logforwardingdestination/in-cluster-check -n "$namespace" --for=condition=Ready --timeout=90s ||
  die "the cluster's operator did not report in-cluster-check Ready=True: $(k get logforwardingdestination in-cluster-check -n "$namespace" -o jsonpath='{.status}')"
generation="$(k get logforwardingdestination in-cluster-check -n "$namespace" -o jsonpath='{.metadata.generation}')"
observed="$(k get logforwardingdestination in-cluster-check -n "$namespace" -o jsonpath='{.status.observedGeneration}')"
[ "$generation" = "$observed" ] || die "in-cluster-check: observedGeneration $observed, generation $generation"
k get events -n "$namespace" --field-selector involvedObject.name=in-cluster-check -o name | grep -q . ||
  die "the cluster's operator emitted no Event for in-cluster-check"
k get logforwardingdestination in-cluster-check -n "$namespace" -o wide
k delete logforwardingdestination in-cluster-check -n "$namespace"

# --- 5. the e2e suite -----------------------------------------------------------------------------------------------
log "running the operator e2e suite against the cluster"
TRAILKEEPER_TEST_KUBECONFIG="$kubeconfig" node_modules/.bin/vitest run --project operator "$@"
log "passed"
