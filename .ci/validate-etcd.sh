#!/usr/bin/env bash
# Start real etcd members (Debian package etcd-server; etcdctl from etcd-client) on loopback
# with the flags the StatefulSet sharedinfra-etcd renders, for every mode of golden/<mode>.yaml:
# one member in dev/test, the full --initial-cluster (3 members) in staging/prod-lite/prod.
# $(POD_NAME) becomes sharedinfra-etcd-<i> (what Kubernetes expands), every pod FQDN and
# 0.0.0.0 listener becomes 127.0.0.1 with a free port, the data dir a temp dir; every other
# flag is passed as rendered, so an unknown or malformed flag fails the script.
# Checks: `etcdctl endpoint health` on every member, `member list` has every member, and the
# metrics listener serves the health endpoint the probes use (/readyz and /livez need etcd
# >= 3.5.12, the image's version; older Debian etcd serves /health there instead).
# From staging on (etcd.tls) the client listener is https with --client-cert-auth: the rendered
# certificate paths point at a CA and a server/client certificate made here with openssl, and
# etcdctl connects with them (.ci/validate-etcd-tls.sh tests the refusals).
# usage: .ci/validate-etcd.sh [golden-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
golden="${1:-golden}"
PYTHON="${PYTHON:-$( [ -x .ci/venv/bin/python ] && echo .ci/venv/bin/python || echo python3 )}"
command -v etcd >/dev/null || { echo "etcd missing: apt-get install -y etcd-server" >&2; exit 2; }
command -v etcdctl >/dev/null || { echo "etcdctl missing: apt-get install -y etcd-client" >&2; exit 2; }
export ETCDCTL_API=3

work="$(mktemp -d)"
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap 'stop_all; rm -rf "$work"' EXIT
pki="$work/pki"; mkdir -p "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=sharedinfra-ca \
  -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=sharedinfra-etcd \
  -keyout "$pki/tls.key" -out "$pki/tls.csr" 2>/dev/null
printf '%s\n' subjectAltName=IP:127.0.0.1 extendedKeyUsage=serverAuth,clientAuth > "$pki/ext"
openssl x509 -req -in "$pki/tls.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 1 \
  -extfile "$pki/ext" -out "$pki/tls.crt" 2>/dev/null
free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
headless="sharedinfra-etcd-headless.soma-infra.svc.cluster.local"

for mode in dev test staging prod-lite prod; do
  file="$golden/$mode.yaml"
  n="$("$PYTHON" .ci/extract-data.py "$file" replicas StatefulSet sharedinfra-etcd)"
  mapfile -t args < <("$PYTHON" .ci/extract-data.py "$file" args StatefulSet sharedinfra-etcd etcd)
  declare -a client peer metrics
  for ((i = 0; i < n; i++)); do client[i]="$(free_port)"; peer[i]="$(free_port)"; metrics[i]="$(free_port)"; done
  endpoints=()
  tls=()
  scheme=""
  if printf '%s\n' "${args[@]}" | grep -qx -- '--client-cert-auth=true'; then
    tls=(--cacert="$pki/ca.crt" --cert="$pki/tls.crt" --key="$pki/tls.key"); scheme="https://"
  fi
  for ((i = 0; i < n; i++)); do
    member=(); dir="$work/$mode/$i"; mkdir -p "$dir"
    for a in "${args[@]}"; do
      a="${a//\$(POD_NAME)/sharedinfra-etcd-$i}"
      for ((j = 0; j < n; j++)); do
        a="${a//sharedinfra-etcd-$j.$headless:2380/127.0.0.1:${peer[j]}}"
        a="${a//sharedinfra-etcd-$j.$headless:2379/127.0.0.1:${client[j]}}"
      done
      a="${a//0.0.0.0:2380/127.0.0.1:${peer[i]}}"
      a="${a//0.0.0.0:2379/127.0.0.1:${client[i]}}"
      a="${a//0.0.0.0:2381/127.0.0.1:${metrics[i]}}"
      a="${a//--data-dir=\/var\/run\/etcd\/data/--data-dir=$dir/data}"
      a="${a//\/etc\/etcd\/tls/$pki}"
      member+=("$a")
    done
    if printf '%s\n' "${member[@]}" | grep -q 'svc.cluster.local\|0\.0\.0\.0\|/var/run/etcd\|/etc/etcd'; then
      echo "FAIL $mode: unexpected address or path left in the flags: ${member[*]}" >&2; exit 1
    fi
    etcd "${member[@]}" > "$dir/etcd.log" 2>&1 &
    pids+=("$!")
    endpoints+=("${scheme}127.0.0.1:${client[i]}")
  done
  healthy=""
  for _ in $(seq 1 100); do
    if etcdctl "${tls[@]}" --endpoints="$(IFS=,; echo "${endpoints[*]}")" endpoint health >/dev/null 2>&1; then healthy=yes; break; fi
    sleep 0.2
  done
  if [ -z "$healthy" ]; then
    echo "FAIL $mode: etcd members not healthy" >&2
    for ((i = 0; i < n; i++)); do echo "--- member $i"; tail -n 20 "$work/$mode/$i/etcd.log"; done >&2
    exit 1
  fi
  members="$(etcdctl "${tls[@]}" --endpoints="${endpoints[0]}" member list | wc -l)"
  [ "$members" = "$n" ] || { echo "FAIL $mode: member list has $members members, want $n" >&2; exit 1; }
  probe=""
  for path in /readyz /livez /health; do
    if "$PYTHON" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${metrics[0]}$path', timeout=2)" 2>/dev/null; then
      probe="$path"; break
    fi
  done
  [ -n "$probe" ] || { echo "FAIL $mode: metrics listener serves no health endpoint" >&2; exit 1; }
  echo "ok   $mode: $n etcd member(s) from the rendered flags are healthy${scheme:+ over https with a client certificate}; member list = $n; metrics listener $probe"
  stop_all
  unset client peer metrics
done
echo "etcd: all modes passed ($(etcd --version | head -n 1))"
