#!/usr/bin/env bash
# End-to-end check of the harness with kubectl: builds (if needed), starts it,
# exercises CRDs + CEL + /status, Leases, RBAC for a non-admin user, the
# issue-user subcommand, service-account tokens and server-side apply, then
# stops it with SIGTERM and checks that it exits cleanly.
#   test/kube-apiserver/smoke-test.sh
# Prints "N passed, N failed" at the end; exits non-zero on any failure.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="$("$here/build.sh" | tail -n1)" || { echo "build failed" >&2; exit 1; }
out="$(mktemp -d -t kah-smoke-XXXXXX)"
passed=0
failed=0
pid=""

ok() { passed=$((passed + 1)); echo "ok   - $*"; }
bad() { failed=$((failed + 1)); echo "FAIL - $*"; }
check() { # description, command...
  local desc="$1"; shift
  if "$@" >"$out/last.log" 2>&1; then ok "$desc"; else bad "$desc"; sed 's/^/       /' "$out/last.log"; fi
}
expect_fail() { # description, pattern, command...
  local desc="$1" pattern="$2"; shift 2
  if "$@" >"$out/last.log" 2>&1; then
    bad "$desc (command succeeded)"
  elif grep -q -- "$pattern" "$out/last.log"; then
    ok "$desc"
  else
    bad "$desc (no '$pattern' in output)"; sed 's/^/       /' "$out/last.log"
  fi
}
finish() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" 2>/dev/null; fi
  echo "$passed passed, $failed failed"
  if [[ $failed -eq 0 ]]; then rm -rf "$out"; else echo "logs kept in $out" >&2; fi
  [[ $failed -eq 0 ]]
}
trap 'finish; exit $?' EXIT

t0=$(date +%s.%N)
"$bin" --out-dir "$out" --extra-user operator:trailkeeper-testers >"$out/stdout" 2>"$out/harness.log" &
pid=$!
for _ in $(seq 1 1800); do
  [[ -f "$out/ready" ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [[ ! -f "$out/ready" ]]; then
  bad "harness became ready"; tail -50 "$out/harness.log"; exit 1
fi
t1=$(date +%s.%N)
ok "harness ready at $(cat "$out/ready") in $(echo "$t1 - $t0" | bc)s (stdout: $(cat "$out/stdout"))"

k() { kubectl --kubeconfig "$out/kubeconfig" "$@"; }
op() { kubectl --kubeconfig "$out/kubeconfig-operator" "$@"; }

check "GET /readyz" bash -c "[[ \$(kubectl --kubeconfig '$out/kubeconfig' get --raw /readyz) == ok ]]"
check "server reports the Kubernetes version from go.mod" bash -c \
  "kubectl --kubeconfig '$out/kubeconfig' get --raw /version | grep -q '\"gitVersion\": *\"$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "$here/go.mod")\"'"
check "create namespace" k create namespace smoke

cat >"$out/crd.yaml" <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.smoke.trailkeeper.test
spec:
  group: smoke.trailkeeper.test
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [min, max]
              x-kubernetes-validations:
                - rule: self.min <= self.max
                  message: min must not exceed max
                  reason: FieldValueInvalid
              properties:
                min: {type: integer}
                max: {type: integer}
            status:
              type: object
              properties:
                observedGeneration: {type: integer}
                phase: {type: string}
EOF
check "apply CRD with status subresource and CEL rule" k apply -f "$out/crd.yaml"
check "CRD established" k wait --for condition=Established --timeout=60s crd/widgets.smoke.trailkeeper.test

cat >"$out/good.yaml" <<'EOF'
apiVersion: smoke.trailkeeper.test/v1
kind: Widget
metadata: {name: good, namespace: smoke}
spec: {min: 1, max: 3}
EOF
cat >"$out/bad.yaml" <<'EOF'
apiVersion: smoke.trailkeeper.test/v1
kind: Widget
metadata: {name: bad, namespace: smoke}
spec: {min: 5, max: 3}
EOF
# Discovery of a new CRD can lag a moment behind Established.
for _ in $(seq 1 50); do k get widgets -n smoke >/dev/null 2>&1 && break; sleep 0.2; done
check "create valid custom resource" k create -f "$out/good.yaml"
expect_fail "CEL rejects invalid custom resource" "min must not exceed max" k create -f "$out/bad.yaml"
check "patch /status subresource" k patch widget good -n smoke --subresource=status --type=merge \
  -p '{"status":{"observedGeneration":1,"phase":"Ready"}}'
check "status persisted" bash -c "[[ \$(kubectl --kubeconfig '$out/kubeconfig' get widget good -n smoke -o jsonpath='{.status.phase}') == Ready ]]"

cat >"$out/lease.yaml" <<'EOF'
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: smoke-leader, namespace: smoke}
spec: {holderIdentity: smoke-test, leaseDurationSeconds: 15}
EOF
check "create Lease" k create -f "$out/lease.yaml"
check "server-side apply" k apply --server-side --field-manager=smoke -f "$out/good.yaml"

check "non-admin identity is operator in trailkeeper-testers" bash -c \
  "kubectl --kubeconfig '$out/kubeconfig-operator' auth whoami -o jsonpath='{.status.userInfo.username} {.status.userInfo.groups}' | grep -q '^operator .*trailkeeper-testers'"
expect_fail "non-admin forbidden before RoleBinding" "Forbidden" op get leases -n smoke
check "create Role" k create role lease-reader -n smoke --verb=get,list,watch --resource=leases.coordination.k8s.io
check "create RoleBinding" k create rolebinding operator-leases -n smoke --role=lease-reader --user=operator
ok_after_bind() {
  for _ in $(seq 1 50); do op get leases -n smoke >/dev/null 2>&1 && return 0; sleep 0.2; done
  op get leases -n smoke
}
check "non-admin allowed after RoleBinding" ok_after_bind
expect_fail "non-admin still forbidden elsewhere" "Forbidden" op get secrets -n smoke

check "issue-user subcommand" "$bin" issue-user --out-dir "$out" late:group-a,group-b
check "issued user authenticates" bash -c \
  "kubectl --kubeconfig '$out/kubeconfig-late' auth whoami -o jsonpath='{.status.userInfo.username}' | grep -qx late"

check "create ServiceAccount" k create serviceaccount robot -n smoke
sa_whoami() {
  local token
  token="$(k create token robot -n smoke --duration=10m)" || return 1
  # No kubeconfig: server, CA and bearer token only, as an in-cluster client would have.
  kubectl --kubeconfig=/dev/null --server="$(cat "$out/url")" --certificate-authority="$out/ca.crt" --token="$token" \
    auth whoami -o jsonpath='{.status.userInfo.username}' | grep -qx system:serviceaccount:smoke:robot
}
check "TokenRequest token authenticates as the ServiceAccount" sa_whoami

check "delete namespace is accepted" k delete namespace smoke --wait=false
check "namespace stays Terminating (no controller-manager)" bash -c \
  "sleep 2; [[ \$(kubectl --kubeconfig '$out/kubeconfig' get ns smoke -o jsonpath='{.status.phase}') == Terminating ]]"

rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
echo "info - harness RSS ${rss_kb} kB (peak ${hwm_kb} kB)"
data_dir="$(sed -n 's/^harness: data dir \(.*\) (temporary, removed on exit)$/\1/p' "$out/harness.log" | head -1)"

# An open watch (as an operator keeps) must not hold up shutdown.
k get leases -A -w >/dev/null 2>&1 &
watch_pid=$!
sleep 1
t2=$(date +%s.%N)
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
t3=$(date +%s.%N)
kill "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null
stopped_pid=$pid
pid=""
stop_s=$(echo "$t3 - $t2" | bc)
if [[ $rc -eq 0 ]]; then ok "SIGTERM with an open watch: exited 0 after ${stop_s}s"; else bad "SIGTERM: exit code $rc"; tail -30 "$out/harness.log"; fi
if (( $(echo "$stop_s < 10" | bc) )); then ok "stopped within 10s"; else bad "stop took ${stop_s}s"; fi
if [[ ! -e "$out/ready" ]]; then ok "ready file removed on exit"; else bad "ready file left behind"; fi
if grep -q "harness: stopped" "$out/harness.log"; then ok "harness logged clean stop"; else bad "no clean-stop line in log"; fi
if [[ -n "$data_dir" && -e "$data_dir" ]]; then bad "temporary data dir $data_dir left behind"; else ok "temporary data dir removed"; fi
kill -0 "$stopped_pid" 2>/dev/null && bad "process $stopped_pid still alive"
exit 0
