#!/usr/bin/env bash
# kafka_exporter exits when no broker answers at start, so its pod waits in the init container
# "wait-for-kafka" (golden/<mode>.yaml) instead of crash-looping. The rendered script runs for
# real with bash, the broker address moved to a free loopback port: it must keep waiting while
# nothing listens, and return 0 soon after a listener appears.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x .ci/venv/bin/python ] && echo .ci/venv/bin/python || echo python3 )}"
golden="${1:-golden}"
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
for mode in dev prod; do
  port="$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  "$PYTHON" .ci/extract-data.py "$golden/$mode.yaml" script Deployment sharedinfra-kafka-exporter wait-for-kafka \
    | sed "s#/dev/tcp/sharedinfra-kafka/9092#/dev/tcp/127.0.0.1/$port#" > "$work/wait.sh"
  grep -q "/dev/tcp/127.0.0.1/$port" "$work/wait.sh" || { echo "FAIL $mode: the init script does not dial sharedinfra-kafka:9092" >&2; exit 1; }
  bash "$work/wait.sh" > "$work/wait.log" 2>&1 &
  waiter=$!; pids+=("$waiter")
  sleep 3
  kill -0 "$waiter" 2>/dev/null || { echo "FAIL $mode: wait-for-kafka returned with no broker listening" >&2; cat "$work/wait.log" >&2; exit 1; }
  "$PYTHON" -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(30)' "$port" &
  pids+=("$!")
  for _ in $(seq 1 50); do kill -0 "$waiter" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$waiter" 2>/dev/null; then echo "FAIL $mode: wait-for-kafka still waits with a broker listening" >&2; exit 1; fi
  wait "$waiter" || { echo "FAIL $mode: wait-for-kafka failed" >&2; cat "$work/wait.log" >&2; exit 1; }
  echo "ok   $mode: wait-for-kafka holds the exporter while no broker listens, releases it once one does"
done
echo "kafka-exporter: passed"
