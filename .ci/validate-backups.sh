#!/usr/bin/env bash
# Backups and recovery (docs/recovery.md), with the real programs:
#
#   Postgres (Debian's PostgreSQL): the rendered WAL archiver (pg_receivewal) and base-backup
#   scripts of prod-lite run against a real server; rows are written, a time is noted, more rows
#   are written; the server is lost; the restore commands of docs/recovery.md bring the base
#   backup plus the archived WAL back to that time, and exactly the rows written before it are
#   there. Pruning removes an expired base backup and the WAL older than the oldest one kept.
#   The dev dump script's pg_dumpall restores into a fresh cluster with the documented command.
#   etcd (upstream 3.5, .ci/components.sh): the rendered `etcdctl snapshot save` and the
#   rotation script (busybox applets) save a snapshot; the documented `etcdctl snapshot restore`
#   brings back exactly the keys of the snapshot. Redis (Debian's redis-server): the rendered
#   RDB copy restores with the documented steps.
#
# The scripts are taken from the golden files, the restore blocks from docs/recovery.md (the
# fenced block after each `<!-- recovery: NAME -->`); only their env (paths, hosts, ports)
# differs from a pod's. Must run as root (servers run as the postgres user).
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
# shellcheck source=.ci/backups-common.sh
source .ci/backups-common.sh

# ============================== Postgres: PITR ===============================================

export PGPASSWORD="$pw_postgres"
p1="$(free_port)"
pg_start "$work/primary" "$p1"
psql_at "$p1" "CREATE ROLE repmgr LOGIN REPLICATION PASSWORD \$pw\$$pw_repmgr\$pw\$"

golden=golden/prod-lite.yaml
archiver="$(extract "$golden" script Deployment sharedinfra-postgres-wal-archiver wal-archiver)"
base="$(extract "$golden" script CronJob sharedinfra-postgres-backup base-backup)"
rendered_conninfo="$(extract "$golden" env CronJob sharedinfra-postgres-backup base-backup | sed -n 's/^PG_CONNINFO=//p')"
# The rendered connection string with this server's address in place of the pods' names.
conninfo="$(sed -E "s/host=[^ ]+/host=127.0.0.1/; s/port=[0-9]+/port=$p1/" <<<"$rendered_conninfo")"
[[ "$conninfo" == *"user=repmgr target_session_attrs=read-write"* ]] || fail "unexpected PG_CONNINFO: $rendered_conninfo"
backup="$work/pg-backup"; mkdir -p "$backup"; chown postgres: "$backup"
pgenv=(BACKUP_DIR="$backup" PG_CONNINFO="$conninfo" PGPASSWORD_FILE="$work/repmgr-password" TMPDIR="$work")

as_pg env "${pgenv[@]}" WAL_SLOT=sharedinfra_wal_archiver bash -ec "$archiver" >"$work/archiver.log" 2>&1 &
pids+=($!)
wait_archiving "$p1"

psql_at "$p1" "CREATE TABLE orders (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp()); INSERT INTO orders (id) SELECT generate_series(1, 100)"
as_pg env "${pgenv[@]}" RETENTION_DAYS=7 bash -ec "$base" >"$work/base1.log" 2>&1 || fail "base backup script"
first="$(cd "$backup/base" && ls -1d base-* | sort | tail -n 1)"
[ -s "$backup/base/$first/base.tar.gz" ] && [ -s "$backup/base/$first/start-wal" ] || fail "no base backup in $backup/base"

# Pruning: an expired base backup and the WAL before the oldest kept base backup go.
mkdir "$backup/base/base-20000101T000000Z"; echo 000000010000000000000000 >"$backup/base/base-20000101T000000Z/start-wal"
touch "$backup/wal/000000010000000000000000"
touch -d '10 days ago' "$backup/base/base-20000101T000000Z" "$backup/wal/000000010000000000000000"
chown -R postgres: "$backup"
sleep 1.1  # a second base backup gets its own stamp
as_pg env "${pgenv[@]}" RETENTION_DAYS=7 bash -ec "$base" >"$work/base2.log" 2>&1 || fail "second base backup"
[ ! -e "$backup/base/base-20000101T000000Z" ] || fail "the expired base backup was not pruned"
[ ! -e "$backup/wal/000000010000000000000000" ] || fail "WAL older than the oldest base backup was not pruned"
[ -d "$backup/base/$first" ] || fail "a base backup within retention was pruned"
echo "postgres: base backups $(cd "$backup/base" && ls -1d base-* | wc -l) kept, expired one and its WAL pruned"

psql_at "$p1" "INSERT INTO orders (id) SELECT generate_series(101, 200)"
sleep 1.1
target="$(psql_at "$p1" "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")"
sleep 1.1
psql_at "$p1" "INSERT INTO orders (id) SELECT generate_series(201, 300)"
# The dump of dev, while the server is up (restored further down).
dump="$(extract golden/dev.yaml script CronJob sharedinfra-postgres-backup dump)"
dump_conninfo="$(extract golden/dev.yaml env CronJob sharedinfra-postgres-backup dump | sed -n 's/^PG_CONNINFO=//p' | sed -E "s/host=[^ ]+/host=127.0.0.1/; s/port=[0-9]+/port=$p1/")"
dumpdir="$work/pg-dump"; mkdir -p "$dumpdir"; chown postgres: "$dumpdir"
as_pg env BACKUP_DIR="$dumpdir" RETENTION_DAYS=7 PG_CONNINFO="$dump_conninfo" PGPASSWORD_FILE="$work/postgres-password" bash -ec "$dump" >"$work/dump.log" 2>&1 || fail "dump script"
# Everything written is archived before the server is lost.
lsn="$(psql_at "$p1" "SELECT pg_current_wal_lsn()")"
for _ in $(seq 1 300); do
  [ "$(psql_at "$p1" "SELECT flush_lsn >= '$lsn' FROM pg_stat_replication WHERE application_name = 'pg_receivewal'")" = t ] && break
  sleep 0.2
done
as_pg pg_ctl -D "$work/primary" -m immediate stop >/dev/null
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true

# Restore to the noted time with the documented commands.
pitr_restore "$backup"
restored="$work/restored"; p2="$restored_port"
echo "postgres: PITR to $target restored rows 1..200 of 300 (base backup + archived WAL)"
as_pg env PGDATA="$restored" PGHOST="$work" PGPORT="$p2" PGUSER=postgres PGDATABASE=postgres bash -euo pipefail -c "$(doc_block postgres-pitr-finish)" >"$work/finish.log" 2>&1 ||
  fail "the documented after-recovery commands"
[ -z "$(psql_at "$p2" "SHOW restore_command")" ] || fail "restore_command is still set after the finish step"
psql_at "$p2" "INSERT INTO orders (id) VALUES (201)"  # writable on its new timeline

# The dev dump restores into a fresh cluster.
p3="$(free_port)"
pg_start "$work/fresh" "$p3"
as_pg env BACKUP_DIR="$dumpdir" PG_CONNINFO="host=127.0.0.1 port=$p3 user=postgres dbname=postgres" PGPASSWORD="$pw_postgres" bash -euo pipefail -c "$(doc_block postgres-dump-restore)" >"$work/dump-restore.log" 2>&1 ||
  fail "the documented dump restore"
rows="$(psql_at "$p3" "SELECT count(*) FROM orders")"
[ "$rows" = 300 ] || fail "dump restore: expected 300 rows, found $rows"
[ "$(psql_at "$p3" "SELECT rolreplication FROM pg_roles WHERE rolname = 'repmgr'")" = t ] || fail "dump restore: role repmgr missing"
echo "postgres: dev's pg_dumpall restored 300 rows and the roles into a fresh cluster"

# ============================== etcd: snapshot and restore ===================================
tools="$work/busybox"; mkdir -p "$tools"; busybox --install -s "$tools"
ec="$(free_port)"; ep="$(free_port)"
"$etcd_bin" --name sharedinfra-etcd-0 --data-dir "$work/etcd-data" --listen-client-urls "http://127.0.0.1:$ec" \
  --advertise-client-urls "http://127.0.0.1:$ec" --listen-peer-urls "http://127.0.0.1:$ep" \
  --initial-advertise-peer-urls "http://127.0.0.1:$ep" --initial-cluster "sharedinfra-etcd-0=http://127.0.0.1:$ep" >"$work/etcd.log" 2>&1 &
etcd_pid=$!; pids+=($etcd_pid)
export ETCDCTL_API=3
for _ in $(seq 1 300); do etcdctl --endpoints="127.0.0.1:$ec" endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
etcdctl --endpoints="127.0.0.1:$ec" put /soma/before-1 one >/dev/null
etcdctl --endpoints="127.0.0.1:$ec" put /soma/before-2 two >/dev/null
etcdbk="$work/etcd-backup"; mkdir -p "$etcdbk"
mapfile -t snap_args < <(extract golden/prod.yaml args CronJob sharedinfra-etcd-backup snapshot)
[ "${snap_args[*]:0:2}" = "snapshot save" ] || fail "unexpected etcd snapshot args: ${snap_args[*]}"
snap_args=("${snap_args[@]/#\/backup/$etcdbk}")
env ETCDCTL_ENDPOINTS="http://127.0.0.1:$ec" ETCDCTL_DIAL_TIMEOUT=10s etcdctl "${snap_args[@]}" >"$work/etcd-snapshot.log" 2>&1 || fail "etcdctl ${snap_args[*]}"
rotate="$(extract golden/prod.yaml script CronJob sharedinfra-etcd-backup rotate)"
touch -d '30 days ago' "$etcdbk/etcd-20000101T000000Z.db"
env -i PATH="$tools" BACKUP_DIR="$etcdbk" RETENTION_DAYS=7 "$tools/sh" -c "$rotate" >"$work/etcd-rotate.log" 2>&1 || fail "the rotate script (busybox)"
[ ! -e "$etcdbk/etcd-20000101T000000Z.db" ] || fail "the expired etcd snapshot was not pruned"
snapshot="$(cd "$etcdbk" && ls -1 etcd-*.db | sort | tail -n 1)"
etcdctl --endpoints="127.0.0.1:$ec" put /soma/after snapshot >/dev/null
kill "$etcd_pid"; wait "$etcd_pid" 2>/dev/null || true
etcd_restore "$etcdbk/$snapshot"
ec="$restored_etcd"
keys="$(etcdctl --endpoints="127.0.0.1:$ec" get --prefix --keys-only /soma/ | sed '/^$/d' | tr '\n' ' ')"
[ "$keys" = "/soma/before-1 /soma/before-2 " ] || fail "etcd restore: expected the two keys of the snapshot, found: $keys"
echo "etcd: snapshot $snapshot ($("$etcd_bin" --version | head -n1)) restored exactly the keys it held; expired snapshot pruned"

# ============================== Redis: RDB copy and restore ==================================
rp="$(free_port)"; rpw='re dis"\$;#,'
mkdir -p "$work/redis"; printf '%s' "$rpw" >"$work/redis-password"
printf 'port %s\nbind 127.0.0.1\ndir %s\nappendonly yes\nsave ""\nrequirepass "%s"\n' "$rp" "$work/redis" 're dis\"\\$;#,' >"$work/redis.conf"
redis-server "$work/redis.conf" >"$work/redis.log" 2>&1 & pids+=($!)
export REDISCLI_AUTH="$rpw"
for _ in $(seq 1 300); do [ "$(redis-cli -p "$rp" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
redis-cli -p "$rp" set soma:key kept >/dev/null
rdb="$(extract golden/prod.yaml script CronJob sharedinfra-redis-backup rdb)"
redisbk="$work/redis-backup"; mkdir -p "$redisbk"
env BACKUP_DIR="$redisbk" RETENTION_DAYS=3 REDIS_HOST=127.0.0.1 REDIS_PORT="$rp" REDIS_PASSWORD_FILE="$work/redis-password" sh -c "$rdb" >"$work/redis-backup.log" 2>&1 || fail "the RDB copy script"
redis-cli -p "$rp" set soma:key changed >/dev/null
redis-cli -p "$rp" shutdown nosave >/dev/null 2>&1 || true
mkdir -p "$work/redis-restored"
env BACKUP_DIR="$redisbk" DATA_DIR="$work/redis-restored" RESTORE_PORT="$(free_port)" sh -euc "$(doc_block redis-restore)" >"$work/redis-restore.log" 2>&1 || fail "the documented Redis restore"
[ -d "$work/redis-restored/appendonlydir" ] || fail "Redis restore: no append-only file was written"
# Redis as the stack runs it (appendonly yes) starts from the rewritten AOF.
rp="$(free_port)"
redis-server --port "$rp" --bind 127.0.0.1 --dir "$work/redis-restored" --appendonly yes --requirepass "$rpw" >"$work/redis2.log" 2>&1 & pids+=($!)
for _ in $(seq 1 300); do [ "$(redis-cli -p "$rp" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
[ "$(redis-cli -p "$rp" get soma:key)" = kept ] || fail "Redis restore: soma:key is not the copied value"
echo "redis: the RDB copy restored soma:key as it was when copied"
echo "backups: all recovery checks passed"
