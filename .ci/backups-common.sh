# shellcheck shell=bash
# The set-up the backup checks share (.ci/validate-backups.sh, .ci/validate-backups-s3.sh), for
# scripts that `source` it from the repository root, as root: Debian's PostgreSQL ($pgbin), the
# programs the rendered scripts call, a work directory ($work) that is removed on exit with every
# server stopped (PostgreSQL data directories in pg_dirs, other servers' pids in pids), and the
# helpers below, with PostgreSQL's passwords (hostile ones) in $work/{postgres,repmgr}-password.
PYTHON="${PYTHON:-.ci/venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
[ "$(id -u)" = 0 ] || { echo "FAIL: run as root (the servers run as user postgres)" >&2; exit 2; }
pgbin=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && pgbin="$d"; done
[ -n "$pgbin" ] || { echo "PostgreSQL server missing: apt-get install -y postgresql" >&2; exit 2; }
for c in etcdctl openssl busybox redis-server; do
  command -v "$c" >/dev/null || { echo "$c missing (apt-get install etcd-client openssl busybox redis-server)" >&2; exit 2; }
done
etcd_bin="$(bash .ci/components.sh --dir etcd)/etcd"

work="$(mktemp -d)"; chmod 755 "$work"; chown postgres: "$work"
pids=()
pg_dirs=()
cleanup() {
  for d in "${pg_dirs[@]}"; do
    [ -f "$d/postmaster.pid" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true
  done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done; exit 1; }
free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
extract() { "$PYTHON" .ci/extract-data.py "$@"; }
# doc_block NAME: the fenced block after `<!-- recovery: NAME -->` in docs/recovery.md.
doc_block() {
  awk -v name="$1" '
    $0 == "<!-- recovery: " name " -->" { armed = 1; next }
    armed && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }' docs/recovery.md
}
as_pg() { runuser -u postgres -- env PATH="$pgbin:$PATH" "$@"; }
psql_at() { as_pg psql -X -q -At -h "$work" -p "$1" -U postgres -d postgres -c "$2"; }

pw_postgres='pg "pass" $word; #1'
pw_repmgr='rep '"'"'mgr\ "$x",;'
printf '%s' "$pw_postgres" >"$work/postgres-password"
printf '%s' "$pw_repmgr" >"$work/repmgr-password"
chown postgres: "$work"/*-password; chmod 0440 "$work"/*-password

# pg_start DIR PORT: a new server in DIR on PORT, with TLS as prod-lite's nodes serve it (the
# rendered connection strings say sslmode=require).
pg_start() {
  as_pg initdb -D "$1" -U postgres --auth=scram-sha-256 --pwfile="$work/postgres-password" >/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=postgres -keyout "$1/server.key" -out "$1/server.crt" >/dev/null 2>&1
  chown postgres: "$1/server.key" "$1/server.crt"; chmod 0600 "$1/server.key"
  printf "ssl = on\nport = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n" "$2" "$work" >>"$1/postgresql.conf"
  pg_dirs+=("$1")
  as_pg pg_ctl -D "$1" -l "$work/$(basename "$1").log" -w -t 60 start >/dev/null
}

# start_restored DIR: starts the server a restore left in DIR on a free port ($restored_port)
# and waits until its recovery has ended.
start_restored() {
  restored_port="$(free_port)"
  sed -i "/^port = /d; /^unix_socket_directories/d" "$1/postgresql.conf"
  printf "port = %s\nunix_socket_directories = '%s'\n" "$restored_port" "$work" >>"$1/postgresql.conf"
  pg_dirs+=("$1")
  as_pg pg_ctl -D "$1" -l "$work/$(basename "$1").log" -w -t 120 start >/dev/null || fail "the restored server does not start"
  for _ in $(seq 1 300); do
    [ "$(psql_at "$restored_port" "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ] && break
    sleep 0.2
  done
  [ "$(psql_at "$restored_port" "SELECT pg_is_in_recovery()")" = f ] || fail "the restored server did not finish recovery"
}

# etcd_restore SNAPSHOT: docs/recovery.md's etcd restore of SNAPSHOT into a new data directory,
# then a member serving it on a free client port ($restored_etcd, also in pids).
etcd_restore() {
  local ep
  restored_etcd="$(free_port)"; ep="$(free_port)"
  env SNAPSHOT="$1" MEMBER=sharedinfra-etcd-0 INITIAL_CLUSTER="sharedinfra-etcd-0=http://127.0.0.1:$ep" \
    PEER_URL="http://127.0.0.1:$ep" DATA_DIR="$work/etcd-restored" bash -euo pipefail -c "$(doc_block etcd-restore)" >"$work/etcd-restore.log" 2>&1 ||
    fail "the documented etcd restore of $1"
  "$etcd_bin" --name sharedinfra-etcd-0 --data-dir "$work/etcd-restored" --listen-client-urls "http://127.0.0.1:$restored_etcd" \
    --advertise-client-urls "http://127.0.0.1:$restored_etcd" --listen-peer-urls "http://127.0.0.1:$ep" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ep" --initial-cluster "sharedinfra-etcd-0=http://127.0.0.1:$ep" >"$work/etcd2.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do etcdctl --endpoints="127.0.0.1:$restored_etcd" endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
}

# wait_archiving PORT: until the WAL archiver streams through its slot, up to about 60 s (on a
# loaded machine its first connection can take a while). The slot is the condition: the
# connection that creates it shows in pg_stat_replication too.
wait_archiving() {
  for _ in $(seq 1 300); do
    [ "$(psql_at "$1" "SELECT active FROM pg_replication_slots WHERE slot_name = 'sharedinfra_wal_archiver'")" = t ] && return 0
    sleep 0.2
  done
  fail "the WAL archiver is not streaming through its slot"
}

# pitr_restore BACKUP_DIR: docs/recovery.md's PITR restore of BACKUP_DIR's base backup and WAL
# to $target into $work/restored, started on $restored_port; the table orders must hold
# exactly the rows 1..200 written before $target.
pitr_restore() {
  as_pg env BACKUP_DIR="$1" PGDATA="$work/restored" TARGET_TIME="$target" bash -euo pipefail -c "$(doc_block postgres-pitr-restore)" >"$work/restore.log" 2>&1 ||
    fail "the documented PITR restore of $1"
  start_restored "$work/restored"
  local rows
  rows="$(psql_at "$restored_port" "SELECT count(*) || ' ' || max(id) FROM orders")"
  [ "$rows" = "200 200" ] || fail "restored $1 to $target: expected rows 1..200, found count/max $rows"
}
