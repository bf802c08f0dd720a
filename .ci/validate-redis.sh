#!/usr/bin/env bash
# Start the rendered Redis configuration with a real redis-server (Debian package redis-server)
# on 127.0.0.1, for every mode of golden/<mode>.yaml:
#   - the init script of ConfigMap sharedinfra-redis-config runs (paths moved into a temp dir),
#     writing runtime.conf (and sentinel.conf in sentinel modes);
#   - redis-server starts from the rendered redis.conf (+ runtime.conf) and answers PING with the
#     password; in sentinel modes node-0 starts as master, node-1 as its replica (the replicaof
#     line init.sh wrote), node-0's sentinel.conf starts a real Sentinel that reports the master,
#     and the rendered haproxy.cfg (if haproxy is installed) routes to the master and reports
#     /healthz 200.
# The password is hostile on purpose: a space, ", \, #, $, a comma and ; (issue: credentials
# interpolated unescaped). init.sh must quote it for redis.conf and sentinel.conf and JSON-escape
# it for redis_exporter; HAProxy's AUTH check must send it intact; Sentinel must authenticate
# to the master (it discovers the replica through the master's INFO).
# Pod FQDNs are rewritten to localhost and ports to free loopback ports; everything else is the
# rendered text.  usage: .ci/validate-redis.sh [golden-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
golden="${1:-golden}"
PYTHON="${PYTHON:-$( [ -x .ci/venv/bin/python ] && echo .ci/venv/bin/python || echo python3 )}"
command -v redis-server >/dev/null || { echo "redis-server missing: apt-get install -y redis-server" >&2; exit 2; }

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
extract() { "$PYTHON" .ci/extract-data.py "$@"; }
password='ci only "redis" pass\word #1 $HOME, a;b\'
rcli() { REDISCLI_AUTH="$password" redis-cli "$@"; }
headless="sharedinfra-redis-headless.soma-infra.svc.cluster.local"

wait_for() { # description, command...
  local what="$1"; shift
  for _ in $(seq 1 150); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "FAIL: $what" >&2
  find "$work" -name '*.log' -newer "$work" -exec sh -c 'echo "--- $1"; tail -n 20 "$1"' _ {} \; >&2
  return 1
}

# node_dir MODE NODE: run init.sh for pod sharedinfra-redis-<sts>-<n> into $work/MODE/NODE.
prepare_node() {
  local mode="$1" pod="$2" dir="$work/$1/$2"
  mkdir -p "$dir/secrets" "$dir/run" "$dir/data"
  printf '%s' "$password" > "$dir/secrets/redis-password"
  extract "$golden/$mode.yaml" configmap sharedinfra-redis-config init.sh \
    | sed -e "s#/run/secrets/redis#$dir/secrets#g" -e "s#/run/redis#$dir/run#g" > "$dir/init.sh"
  extract "$golden/$mode.yaml" configmap sharedinfra-redis-config redis.conf \
    | sed -e "s#^include /run/redis/runtime.conf\$#include $dir/run/runtime.conf#" -e "s#^dir /data\$#dir $dir/data#" > "$dir/redis.conf"
  grep -q "^include $dir/run/runtime.conf\$" "$dir/redis.conf" || { echo "FAIL $mode: redis.conf lacks the runtime.conf include" >&2; return 1; }
  HOSTNAME="$pod" sh "$dir/init.sh" > "$dir/init.log" 2>&1 || { cat "$dir/init.log" >&2; echo "FAIL $mode: init.sh" >&2; return 1; }
  grep -q '^requirepass ' "$dir/run/runtime.conf" || { echo "FAIL $mode: runtime.conf has no requirepass" >&2; return 1; }
  "$PYTHON" - "$dir/run/exporter-passwords.json" "$password" <<'PY' || { echo "FAIL $mode: exporter-passwords.json" >&2; return 1; }
import json, sys
got = json.load(open(sys.argv[1]))
want = {"redis://127.0.0.1:6379": sys.argv[2]}
sys.exit(0 if got == want else f"redis_exporter password file reads {got!r}, want {want!r}")
PY
}

test_pong() { test "$(rcli -p "$1" ping)" = PONG; }
start_redis() { # dir port
  redis-server "$1/redis.conf" --port "$2" --bind 127.0.0.1 --daemonize no > "$1/redis.log" 2>&1 &
  pids+=("$!")
  wait_for "redis-server on :$2 answers PING" \
    test_pong "$2"
}

for mode in dev test staging prod-lite prod; do
  file="$golden/$mode.yaml"
  [ -f "$file" ] || { echo "missing $file" >&2; exit 2; }
  if extract "$file" exists StatefulSet sharedinfra-redis-master; then
    prepare_node "$mode" sharedinfra-redis-master-0
    port="$(free_port)"
    start_redis "$work/$mode/sharedinfra-redis-master-0" "$port"
    aof="$(rcli -p "$port" config get appendonly | tail -n 1)"
    [ "$(rcli -p "$port" config get requirepass | tail -n 1)" = "$password" ] \
      || { echo "FAIL $mode: requirepass is not the password byte for byte" >&2; exit 1; }
    echo "ok   $mode: standalone redis.conf + runtime.conf start redis-server, PING -> PONG (appendonly $aof)"
    rcli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    continue
  fi
  extract "$file" exists StatefulSet sharedinfra-redis-node || { echo "FAIL $mode: no Redis StatefulSet" >&2; exit 1; }
  n0="$work/$mode/sharedinfra-redis-node-0"; n1="$work/$mode/sharedinfra-redis-node-1"
  prepare_node "$mode" sharedinfra-redis-node-0
  prepare_node "$mode" sharedinfra-redis-node-1
  grep -q '^replicaof ' "$n0/run/runtime.conf" && { echo "FAIL $mode: node-0 must start as master" >&2; exit 1; }
  grep -q "^replicaof sharedinfra-redis-node-0.$headless 6379\$" "$n1/run/runtime.conf" \
    || { echo "FAIL $mode: node-1 must replicate node-0 by FQDN" >&2; cat "$n1/run/runtime.conf" >&2; exit 1; }
  grep -q "^replica-announce-ip sharedinfra-redis-node-1.$headless\$" "$n1/run/runtime.conf" \
    || { echo "FAIL $mode: replica-announce-ip" >&2; exit 1; }
  p0="$(free_port)"; p1="$(free_port)"; s0="$(free_port)"
  # Loopback stand-ins for the pod FQDNs and ports.
  for f in "$n0/run/runtime.conf" "$n1/run/runtime.conf" "$n0/run/sentinel.conf"; do
    sed -i -e "s#sharedinfra-redis-node-[0-9]*\.$headless#localhost#g" \
      -e "s#^replicaof localhost 6379\$#replicaof localhost $p0#" \
      -e "s#^port 26379\$#port $s0#" \
      -e "s#^sentinel monitor sharedinfra localhost 6379 #sentinel monitor sharedinfra localhost $p0 #" "$f"
  done
  start_redis "$n0" "$p0"
  start_redis "$n1" "$p1"
  linked() { grep -q 'master_link_status:up' <<<"$(rcli -p "$p1" info replication)"; }
  wait_for "$mode: node-1 replicates node-0 (masterauth)" linked
  redis-server "$n0/run/sentinel.conf" --sentinel > "$n0/sentinel.log" 2>&1 &
  pids+=("$!")
  wait_for "$mode: sentinel answers PING" \
    sh -c "test \"\$(redis-cli -p $s0 ping)\" = PONG"
  master="$(redis-cli -p "$s0" sentinel get-master-addr-by-name sharedinfra | tr '\n' ' ')"
  [ "$master" = "localhost $p0 " ] || { echo "FAIL $mode: sentinel reports master '$master'" >&2; exit 1; }
  # The replica is known only from the master's INFO, which needs auth-pass.
  sentinel_sees_replica() { [ "$(redis-cli -p "$s0" sentinel master sharedinfra | sed -n '/^num-slaves$/{n;p;}')" = 1 ]; }
  wait_for "$mode: Sentinel authenticates to the master (auth-pass) and discovers the replica" sentinel_sees_replica
  echo "ok   $mode: node-0 master, node-1 replica (link up), sentinel.conf starts Sentinel, which authenticates and finds the replica"
  if command -v haproxy >/dev/null; then
    h="$(free_port)"; hh="$(free_port)"; dead="$(free_port)"
    extract "$file" configmap sharedinfra-redis-haproxy haproxy.cfg \
      | sed -e "s#bind :6379\$#bind 127.0.0.1:$h#" -e "s#bind :8888\$#bind 127.0.0.1:$hh#" \
            -e "s#sharedinfra-redis-node-0\.$headless:6379#127.0.0.1:$p0#" \
            -e "s#sharedinfra-redis-node-1\.$headless:6379#127.0.0.1:$p1#" \
            -e "s#sharedinfra-redis-node-[0-9]*\.$headless:6379#127.0.0.1:$dead#" > "$n0/haproxy.cfg"
    # The Deployment's own command, with the Secret and config paths moved into $n0.
    extract "$file" script Deployment sharedinfra-redis-master haproxy \
      | sed -e "s#/run/secrets/redis/#$n0/secrets/#g" \
            -e "s#^exec haproxy -W -db -f /usr/local/etc/haproxy/haproxy.cfg\$#exec haproxy \"\$@\" -f $n0/haproxy.cfg#" > "$n0/haproxy.sh"
    grep -q "exec haproxy \"\$@\" -f $n0/haproxy.cfg" "$n0/haproxy.sh" || { echo "FAIL $mode: the haproxy command does not exec haproxy -W -db -f <cfg>" >&2; exit 1; }
    sh -e "$n0/haproxy.sh" -c >/dev/null
    sh -e "$n0/haproxy.sh" -W -db > "$n0/haproxy.log" 2>&1 &
    pids+=("$!")
    via_haproxy() { grep -q '^role:master' <<<"$(rcli -p "$h" info replication)"; }
    wait_for "$mode: HAProxy's AUTH check passes and it routes to the master" via_haproxy
    code="$("$PYTHON" -c "import urllib.request,sys; print(urllib.request.urlopen('http://127.0.0.1:$hh/healthz').status)")"
    [ "$code" = 200 ] || { echo "FAIL $mode: /healthz $code" >&2; exit 1; }
    echo "ok   $mode: haproxy.cfg is valid, :6379 reaches role:master, /healthz 200"
  else
    echo "skip $mode: haproxy not installed (apt-get install -y haproxy)"
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
done
echo "redis: all modes passed"
