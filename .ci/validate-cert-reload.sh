#!/usr/bin/env bash
# The cert-reloader sidecar (ConfigMap sharedinfra-cert-reloader/reload.sh, golden/prod.yaml)
# run for real, each case in its own PID namespace like a pod with shareProcessNamespace
# (unshare; must run as root). Certificates sit in a kubelet-style Secret volume: files are
# symlinks through ..data, and a rotation swaps ..data atomically, as the kubelet does when
# cert-manager renews the Secret.
#   1. A dummy server named "vault" (with a child of the same name): no signal while nothing
#      changes; after a rotation the main process, not the child, gets SIGHUP; twice for two.
#   2. A real PostgreSQL (Debian package postgresql) serving cert A: after a rotation to cert B
#      the reloader's SIGHUP makes it serve cert B (openssl s_client -starttls postgres), with no
#      restart (same postmaster pid).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x .ci/venv/bin/python ] && echo .ci/venv/bin/python || echo python3 )}"
golden="${1:-golden}"
[ "$(id -u)" = 0 ] || { echo "FAIL: run as root (unshare --pid, runuser)" >&2; exit 2; }
command -v unshare >/dev/null && command -v openssl >/dev/null || { echo "unshare/openssl missing: apt-get install -y util-linux openssl" >&2; exit 2; }
pgbin=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/postgres" ] && pgbin="$d"; done
[ -n "$pgbin" ] || { echo "PostgreSQL server missing: apt-get install -y postgresql" >&2; exit 2; }

work="$(mktemp -d)"; chmod 755 "$work"
pids=()
cleanup() {
  # unshare --fork ignores SIGTERM; SIGKILL ends it, and --kill-child then ends its namespace.
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
wait_for() { local what="$1"; shift; for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "FAIL: $what" >&2; tail -n 20 "$work"/*.log >&2 2>/dev/null || true; return 1; }

"$PYTHON" .ci/extract-data.py "$golden/prod.yaml" configmap sharedinfra-cert-reloader reload.sh \
  > "$work/reload.sh.in"
# reload_script CASE: the script, its heartbeat (/tmp/reloader.alive) moved to $work/CASE.
reload_script() {
  mkdir -p "$work/$1"; chmod 1777 "$work/$1"
  sed "s#/tmp/reloader.alive#$work/$1/reloader.alive#g" "$work/reload.sh.in" > "$work/$1/reload.sh"
  chmod 644 "$work/$1/reload.sh"
}

# secret_volume DIR NAME: (re)point DIR's tls.crt/tls.key/ca.crt at certificate NAME, as the
# kubelet's atomic writer does: a new ..<timestamp> dir, then ..data renamed over.
secret_volume() {
  local dir="$1" name="$2" ts
  ts="..$(date +%s%N)"
  mkdir -p "$dir/$ts"
  cp "$work/certs/$name.crt" "$dir/$ts/tls.crt"; cp "$work/certs/$name.key" "$dir/$ts/tls.key"
  cp "$work/certs/$name.crt" "$dir/$ts/ca.crt"
  chmod 0440 "$dir/$ts"/*; chown -R root:"${3:-0}" "$dir/$ts"
  ln -sfn "$ts" "$dir/..data_tmp"; mv -T "$dir/..data_tmp" "$dir/..data"
  for f in tls.crt tls.key ca.crt; do [ -L "$dir/$f" ] || ln -s "..data/$f" "$dir/$f"; done
}
mkdir -p "$work/certs"
for n in a b c; do
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=cert-$n" -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$work/certs/$n.key" -out "$work/certs/$n.crt" 2>/dev/null
done

# --- 1. dummy "vault" ------------------------------------------------------------------------
mkdir -p "$work/dummy"
cat > "$work/dummy/vault" <<EOF
#!/bin/sh
trap 'echo main >> $work/dummy/signals' HUP
( trap 'echo child >> $work/dummy/signals' HUP; while :; do sleep 0.1; done ) &
while :; do sleep 0.1; done
EOF
chmod 755 "$work/dummy/vault"
reload_script dummy
: > "$work/dummy/signals"
secret_volume "$work/dummy/tls" a
unshare --pid --fork --kill-child --mount-proc sh -c "
  '$work/dummy/vault' &
  sleep 0.5
  RELOAD_INTERVAL=1 exec sh '$work/dummy/reload.sh' vault HUP '$work/dummy/tls/tls.crt' '$work/dummy/tls/tls.key' '$work/dummy/tls/ca.crt'
" > "$work/dummy.log" 2>&1 &
pids+=("$!")
wait_for "the reloader starts watching" grep -q 'watching' "$work/dummy.log"
sleep 2.5
[ ! -s "$work/dummy/signals" ] || { echo "FAIL: a signal without a rotation: $(cat "$work/dummy/signals")" >&2; exit 1; }
[ -s "$work/dummy/reloader.alive" ] || { echo "FAIL: no heartbeat for the probes" >&2; exit 1; }
secret_volume "$work/dummy/tls" b
wait_for "SIGHUP after the first rotation" grep -qx main "$work/dummy/signals"
secret_volume "$work/dummy/tls" c
got_two() { [ "$(grep -cx main "$work/dummy/signals")" = 2 ]; }
wait_for "SIGHUP after the second rotation" got_two
grep -q child "$work/dummy/signals" && { echo "FAIL: the child process of the same name was signalled" >&2; exit 1; }
echo "ok   reload.sh: no signal while the Secret is unchanged; each rotation sends one SIGHUP to the main process only"

# --- 2. real PostgreSQL -------------------------------------------------------------------------
reload_script pg
user=postgres; id "$user" >/dev/null 2>&1 || user=nobody
pg_port="$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$work/pg"; chown "$user" "$work/pg"
secret_volume "$work/pg/certs" a "$(id -g "$user")"
runuser -u "$user" -- "$pgbin/initdb" -D "$work/pg/data" -U postgres --auth=trust > "$work/pg/initdb.log" 2>&1 \
  || { cat "$work/pg/initdb.log" >&2; exit 1; }
unshare --pid --fork --kill-child --mount-proc sh -c "
  runuser -u '$user' -- '$pgbin/postgres' -D '$work/pg/data' -c listen_addresses=127.0.0.1 -c port=$pg_port \
    -c unix_socket_directories='$work/pg' -c ssl=on -c ssl_cert_file='$work/pg/certs/tls.crt' \
    -c ssl_key_file='$work/pg/certs/tls.key' > '$work/postgres.log' 2>&1 &
  sleep 1
  exec runuser -u '$user' -- env RELOAD_INTERVAL=1 sh '$work/pg/reload.sh' postgres HUP '$work/pg/certs/tls.crt' '$work/pg/certs/tls.key' '$work/pg/certs/ca.crt'
" > "$work/pg-reloader.log" 2>&1 &
pids+=("$!")
served() { echo | timeout 5 openssl s_client -starttls postgres -connect "127.0.0.1:$pg_port" 2>/dev/null | grep -m1 '^subject=' || true; }
serves() { [ "$(served)" = "subject=CN = cert-$1" ]; }
wait_for "PostgreSQL serves cert A" serves a
wait_for "the reloader starts watching" grep -q 'watching' "$work/pg-reloader.log"
postmaster="$(head -n 1 "$work/pg/data/postmaster.pid")"
secret_volume "$work/pg/certs" b "$(id -g "$user")"
wait_for "PostgreSQL serves cert B after the rotation (reloader: $(tail -n 1 "$work/pg-reloader.log"))" serves b
[ "$(head -n 1 "$work/pg/data/postmaster.pid")" = "$postmaster" ] || { echo "FAIL: PostgreSQL restarted" >&2; exit 1; }
grep -q 'sent SIGHUP to postgres' "$work/pg-reloader.log" || { echo "FAIL: the reloader did not report its signal" >&2; exit 1; }
echo "ok   reload.sh + PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'): a rotated certificate is served after SIGHUP, same postmaster, no restart"
echo "cert reload: passed"
