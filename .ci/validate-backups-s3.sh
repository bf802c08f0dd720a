#!/usr/bin/env bash
# Backups to object storage (backups.objectStorage, docs/recovery.md), with the real programs:
#
#   The object store is rclone itself (.ci/components.sh rclone): `rclone serve s3` on loopback,
#   with access-key auth and a local directory as backend. prod-lite is rendered with object
#   storage on, pointing at it, and the rendered upload scripts run with the rendered env (only
#   BACKUP_DIR, HOME and the keys differ from a pod's) under busybox sh, as in the rclone image.
#
#   Postgres (Debian's PostgreSQL): the WAL archiver (pg_receivewal) and its upload sidecar run
#   while the base-backup script and its upload run; the objects are in the store; a second
#   upload copies and deletes nothing; an expired base backup goes from the store with the WAL
#   before the oldest one kept. Rows are written, a time is noted, more rows are written; the
#   server AND the backup volume are lost; the documented download from object storage refills
#   a new volume and the documented PITR restore brings back exactly the rows of that time.
#   etcd (upstream 3.5): snapshots are uploaded, a re-run changes nothing, expired copies go and
#   the newest stays even when expired; the volume is lost and a downloaded snapshot restores.
#   Redis: the RDB copy is uploaded, and a re-run changes nothing. Vault's upload and dev's dump
#   upload are the same script text as etcd's and Redis' (checked), with their own env.
#
# Must run as root (the servers run as the postgres user).
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
# shellcheck source=.ci/backups-common.sh
source .ci/backups-common.sh
somagen="${SOMAGEN:-target/debug/somagen}"
started=$SECONDS
rclone_bin="$(bash .ci/components.sh --dir rclone)/rclone"

# The tools of the rclone image: busybox applets and rclone.
# A copy, not a link: the restore runs as the postgres user, who cannot read the cache.
tools="$work/bin"; mkdir -p "$tools"; busybox --install -s "$tools"; cp "$rclone_bin" "$tools/rclone"

# ============================== the object store ============================================
store="$work/store"; bucket=soma-backups; mkdir -p "$store/$bucket"
access_key=ci-access; secret_key='ci-secret/+key'
s3port="$(free_port)"
# --dir-cache-time 1s: the check ages objects by their files' times behind the server's back.
"$rclone_bin" serve s3 "$store" --addr "127.0.0.1:$s3port" --auth-key "$access_key,$secret_key" \
  --dir-cache-time 1s --config /dev/null >"$work/s3.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do
  "$PYTHON" -c "import socket,sys; socket.create_connection(('127.0.0.1',$s3port),1)" 2>/dev/null && break
  sleep 0.2
done

set_on="backups.objectStorage.enabled=true,backups.objectStorage.bucket=$bucket,backups.objectStorage.prefix=ci/sharedinfra"
set_on+=",backups.objectStorage.endpoint=http://127.0.0.1:$s3port,backups.objectStorage.walUploadIntervalSeconds=10"
rendered="$work/prod-lite.json"
"$somagen" render --mode prod-lite --set "$set_on" -o json >"$rendered"

# The keys volume, as the kubelet lays out the credentials Secret's two keys.
mkdir -p "$work/keys"
printf '%s' "$access_key" >"$work/keys/access-key-id"
printf '%s' "$secret_key" >"$work/keys/secret-access-key"
# upload_env KIND NAME CONTAINER BACKUP_DIR: the container's rendered env as NAME=VALUE lines,
# with BACKUP_DIR, HOME and the keys volume's path on this machine.
upload_env() {
  extract "$rendered" env "$1" "$2" "$3" | sed -e "s|^BACKUP_DIR=/backup|BACKUP_DIR=$4|" -e "s|^HOME=.*|HOME=$work|" \
    -e "s|^OBJECT_STORAGE_KEYS=/run/secrets/object-storage\$|OBJECT_STORAGE_KEYS=$work/keys|"
  echo "RCLONE_CONFIG=/dev/null"
}
# run_upload LOG KIND NAME CONTAINER BACKUP_DIR [VAR=VALUE...]: the rendered script, busybox sh.
run_upload() {
  local log="$1" kind="$2" name="$3" container="$4" dir="$5" script
  shift 5
  script="$(extract "$rendered" script "$kind" "$name" "$container")"
  mapfile -t e < <(upload_env "$kind" "$name" "$container" "$dir")
  env -i PATH="$tools" TMPDIR="$work" "${e[@]}" "$@" "$tools/sh" -c "$script" >"$work/$log.log" 2>&1
}
objects() { (cd "$store/$bucket/ci/sharedinfra/$1" && find . -type f | sed 's|^\./||' | sort); }
# What a re-run must not change: every object's path, size, time and inode under ci/sharedinfra/$1.
fingerprint() { (cd "$store/$bucket/ci/sharedinfra/$1" && find . -type f -printf '%p %s %T@ %i\n' | sort); }
changes() { grep -cE ': (Copied|Deleted|Updated)' "$work/$1.log" || true; }
rclone_env=(RCLONE_CONFIG_OBJECTSTORE_TYPE=s3 RCLONE_CONFIG_OBJECTSTORE_PROVIDER=Other RCLONE_CONFIG_OBJECTSTORE_ENDPOINT="http://127.0.0.1:$s3port"
  RCLONE_CONFIG_OBJECTSTORE_ACCESS_KEY_ID="$access_key" RCLONE_CONFIG_OBJECTSTORE_SECRET_ACCESS_KEY="$secret_key" RCLONE_CONFIG=/dev/null)

# ============================== Postgres: PITR from object storage ============================
export PGPASSWORD="$pw_postgres"
p1="$(free_port)"
pg_start "$work/primary" "$p1"
psql_at "$p1" "CREATE ROLE repmgr LOGIN REPLICATION PASSWORD \$pw\$$pw_repmgr\$pw\$"

archiver="$(extract "$rendered" script Deployment sharedinfra-postgres-wal-archiver wal-archiver)"
base="$(extract "$rendered" script CronJob sharedinfra-postgres-backup base-backup)"
conninfo="$(extract "$rendered" env CronJob sharedinfra-postgres-backup base-backup | sed -n 's/^PG_CONNINFO=//p' |
  sed -E "s/host=[^ ]+/host=127.0.0.1/; s/port=[0-9]+/port=$p1/")"
backup="$work/pg-backup"; mkdir -p "$backup"; chown postgres: "$backup"
pgenv=(BACKUP_DIR="$backup" PG_CONNINFO="$conninfo" PGPASSWORD_FILE="$work/repmgr-password" TMPDIR="$work")
as_pg env "${pgenv[@]}" WAL_SLOT=sharedinfra_wal_archiver bash -ec "$archiver" >"$work/archiver.log" 2>&1 &
archiver_pid=$!; pids+=($archiver_pid)
walstate="$work/wal-upload"; mkdir -p "$walstate"
run_upload wal-upload Deployment sharedinfra-postgres-wal-archiver wal-upload "$backup" TMPDIR="$walstate" &
sidecar_pid=$!; pids+=($sidecar_pid)
wait_archiving "$p1"
psql_at "$p1" "CREATE TABLE orders (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp()); INSERT INTO orders (id) SELECT generate_series(1, 100)"

pg_backup_and_upload() { # log-suffix
  as_pg env "${pgenv[@]}" RETENTION_DAYS=14 bash -ec "$base" >"$work/base$1.log" 2>&1 || fail "base backup script"
  run_upload "upload$1" CronJob sharedinfra-postgres-backup upload "$backup" || fail "the rendered pitr upload script"
}
pg_backup_and_upload 1
first="$(cd "$backup/base" && ls -1d base-* | sort | tail -n 1)"
for f in base.tar.gz pg_wal.tar.gz backup_manifest start-wal; do
  grep -qx "base/$first/$f" <<<"$(objects postgres)" || fail "object postgres/base/$first/$f is missing: $(objects postgres | tr '\n' ' ')"
done
before="$(fingerprint postgres/base)"
run_upload upload1b CronJob sharedinfra-postgres-backup upload "$backup" || fail "the second upload"
[ "$(fingerprint postgres/base)" = "$before" ] && [ "$(changes upload1b)" = 0 ] || fail "a second upload changed the store: $(cat "$work/upload1b.log")"
echo "postgres: base backup $first uploaded ($(objects postgres | grep -c "^base/") objects); a second upload copied and deleted nothing"

# Expire the first base backup (on the volume and in the store), take a second one: the store
# drops the first and the WAL before the second.
sleep 1.1
# Whole seconds, the same on both sides: rclone compares modification times.
old="@$(( $(date +%s) - 20 * 86400 ))"
touch -d "$old" "$backup/base/$first" "$backup/base/$first"/* "$store/$bucket/ci/sharedinfra/postgres/base/$first"/*
# A remote segment older than any base backup kept.
mkdir -p "$store/$bucket/ci/sharedinfra/postgres/wal"; printf 'x' >"$store/$bucket/ci/sharedinfra/postgres/wal/000000010000000000000000"
pg_backup_and_upload 2
second="$(cd "$backup/base" && ls -1d base-* | sort | tail -n 1)"
[ "$first" != "$second" ] || fail "the second base backup has the first one's name"
! grep -q "^base/$first/" <<<"$(objects postgres)" || fail "the expired base backup $first is still in the store"
grep -qx "base/$second/start-wal" <<<"$(objects postgres)" || fail "base backup $second is not in the store"
! grep -qx "wal/000000010000000000000000" <<<"$(objects postgres)" || fail "WAL before the oldest base backup is still in the store"
echo "postgres: expired base backup and its WAL pruned from the store; $second kept"

psql_at "$p1" "INSERT INTO orders (id) SELECT generate_series(101, 200)"
sleep 1.1
target="$(psql_at "$p1" "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")"
sleep 1.1
psql_at "$p1" "INSERT INTO orders (id) SELECT generate_series(201, 300)"
lsn="$(psql_at "$p1" "SELECT pg_current_wal_lsn()")"
for _ in $(seq 1 300); do
  [ "$(psql_at "$p1" "SELECT flush_lsn >= '$lsn' FROM pg_stat_replication WHERE application_name = 'pg_receivewal'")" = t ] && break
  sleep 0.2
done
# The sidecar's next round after the archiver has it all (UPLOAD_INTERVAL is 10 s).
flushed="$(date +%s)"
for _ in $(seq 1 150); do
  [ "$(cat "$walstate/wal-upload.ok" 2>/dev/null || echo 0)" -gt "$flushed" ] && break
  sleep 0.2
done
[ "$(cat "$walstate/wal-upload.ok" 2>/dev/null || echo 0)" -gt "$flushed" ] || fail "the WAL sidecar did not upload within 30 s"
as_pg pg_ctl -D "$work/primary" -m immediate stop >/dev/null
kill "$archiver_pid" "$sidecar_pid"; wait "$archiver_pid" "$sidecar_pid" 2>/dev/null || true
wal_objects="$(objects postgres | grep -c '^wal/')"
# The volume is lost with the server: a new one is refilled from the store, as documented.
rm -rf "$backup"
refilled="$work/pg-refilled"; mkdir -p "$refilled"; chown postgres: "$refilled"
runuser -u postgres -- env -i PATH="$tools" "${rclone_env[@]}" HOME="$work" BACKUP_DIR="$refilled" \
  REMOTE="objectstore:$bucket/ci/sharedinfra/postgres" "$tools/sh" -euc "$(doc_block object-storage-download)" >"$work/download.log" 2>&1 ||
  fail "the documented download from object storage"
pitr_restore "$refilled"
echo "postgres: volume lost; downloaded $second and $wal_objects WAL objects; PITR to $target restored rows 1..200 of 300"

# ============================== etcd: snapshots in the store ==================================
ec="$(free_port)"; ep="$(free_port)"
"$etcd_bin" --name sharedinfra-etcd-0 --data-dir "$work/etcd-data" --listen-client-urls "http://127.0.0.1:$ec" \
  --advertise-client-urls "http://127.0.0.1:$ec" --listen-peer-urls "http://127.0.0.1:$ep" \
  --initial-advertise-peer-urls "http://127.0.0.1:$ep" --initial-cluster "sharedinfra-etcd-0=http://127.0.0.1:$ep" >"$work/etcd.log" 2>&1 &
etcd_pid=$!; pids+=($etcd_pid)
export ETCDCTL_API=3
for _ in $(seq 1 300); do etcdctl --endpoints="127.0.0.1:$ec" endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
etcdctl --endpoints="127.0.0.1:$ec" put /soma/key one >/dev/null
etcdbk="$work/etcd-backup"; mkdir -p "$etcdbk"
rotate="$(extract "$rendered" script CronJob sharedinfra-etcd-backup rotate)"
etcd_backup() { # log-suffix: the rendered snapshot, rotation and upload
  etcdctl --endpoints="127.0.0.1:$ec" --dial-timeout=10s snapshot save "$etcdbk/incoming.db" >"$work/etcd-snapshot$1.log" 2>&1 || fail "etcdctl snapshot save"
  env -i PATH="$tools" BACKUP_DIR="$etcdbk" RETENTION_DAYS=14 "$tools/sh" -c "$rotate" >"$work/etcd-rotate$1.log" 2>&1 || fail "the rotate script"
  run_upload "etcd-upload$1" CronJob sharedinfra-etcd-backup upload "$etcdbk" || fail "the rendered etcd upload script"
}
etcd_backup 1
s1="$(cd "$etcdbk" && ls -1 etcd-*.db | sort | tail -n 1)"
[ "$(objects etcd)" = "$s1" ] || fail "the store holds $(objects etcd), not $s1"
before="$(fingerprint etcd)"
run_upload etcd-upload1b CronJob sharedinfra-etcd-backup upload "$etcdbk" || fail "the second etcd upload"
[ "$(fingerprint etcd)" = "$before" ] && [ "$(changes etcd-upload1b)" = 0 ] || fail "a second etcd upload changed the store"
# Expire s1 on the volume and in the store, take s2: s1 goes from both.
old="@$(( $(date +%s) - 30 * 86400 ))"
touch -d "$old" "$etcdbk/$s1" "$store/$bucket/ci/sharedinfra/etcd/$s1"
sleep 1.1
etcdctl --endpoints="127.0.0.1:$ec" put /soma/key two >/dev/null
etcd_backup 2
s2="$(cd "$etcdbk" && ls -1 etcd-*.db | sort | tail -n 1)"
[ "$(objects etcd)" = "$s2" ] || fail "after expiry the store holds '$(objects etcd | tr '\n' ' ')', not $s2"
# The newest stays even when expired.
touch -d "$old" "$etcdbk/$s2" "$store/$bucket/ci/sharedinfra/etcd/$s2"
run_upload etcd-upload3 CronJob sharedinfra-etcd-backup upload "$etcdbk" || fail "the etcd upload with only an expired copy"
[ "$(objects etcd)" = "$s2" ] || fail "the newest snapshot was pruned from the store"
echo "etcd: $s1 then $s2 uploaded; a re-run changed nothing; the expired one pruned, the newest kept though expired"
kill "$etcd_pid"; wait "$etcd_pid" 2>/dev/null || true
# The volume is lost: download, then restore as documented.
rm -rf "$etcdbk"; mkdir -p "$work/etcd-refilled"
env -i PATH="$tools" "${rclone_env[@]}" HOME="$work" BACKUP_DIR="$work/etcd-refilled" REMOTE="objectstore:$bucket/ci/sharedinfra/etcd" \
  "$tools/sh" -euc "$(doc_block object-storage-download)" >"$work/etcd-download.log" 2>&1 || fail "the documented etcd download"
etcd_restore "$work/etcd-refilled/$s2"
ec="$restored_etcd"
[ "$(etcdctl --endpoints="127.0.0.1:$ec" get --print-value-only /soma/key)" = two ] || fail "etcd restore from object storage: /soma/key is not 'two'"
echo "etcd: volume lost; $s2 downloaded and restored (/soma/key = two)"

# ============================== Redis; Vault's script =========================================
rp="$(free_port)"
redis-server --port "$rp" --bind 127.0.0.1 --dir "$work" --save "" --requirepass ci-redis >"$work/redis.log" 2>&1 & pids+=($!)
printf ci-redis >"$work/redis-password"
for _ in $(seq 1 300); do [ "$(REDISCLI_AUTH=ci-redis redis-cli -p "$rp" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
REDISCLI_AUTH=ci-redis redis-cli -p "$rp" set soma:key kept >/dev/null
redisbk="$work/redis-backup"; mkdir -p "$redisbk"
rdb="$(extract "$rendered" script CronJob sharedinfra-redis-backup rdb)"
env BACKUP_DIR="$redisbk" RETENTION_DAYS=3 REDIS_HOST=127.0.0.1 REDIS_PORT="$rp" REDIS_PASSWORD_FILE="$work/redis-password" sh -c "$rdb" >"$work/redis-backup.log" 2>&1 || fail "the RDB copy script"
run_upload redis-upload CronJob sharedinfra-redis-backup upload "$redisbk" || fail "the rendered Redis upload script"
copy="$(cd "$redisbk" && ls -1 redis-*.rdb)"
cmp -s "$redisbk/$copy" "$store/$bucket/ci/sharedinfra/redis/$copy" || fail "the stored $copy differs from the volume's"
before="$(fingerprint redis)"
run_upload redis-upload2 CronJob sharedinfra-redis-backup upload "$redisbk" || fail "the second Redis upload"
[ "$(fingerprint redis)" = "$before" ] && [ "$(changes redis-upload2)" = 0 ] || fail "a second Redis upload changed the store"
for c in etcd redis; do
  [ "$(extract "$rendered" script CronJob sharedinfra-vault-backup upload)" = "$(extract "$rendered" script CronJob "sharedinfra-$c-backup" upload)" ] ||
    fail "Vault's upload script differs from $c's"
done
[ "$(extract "$rendered" env CronJob sharedinfra-vault-backup upload | sed -n 's/^BACKUP_GLOB=//p')" = 'vault-*.snap' ] || fail "Vault's BACKUP_GLOB"
# dev's dumps: the same script on /backup/dump.
"$somagen" render --mode dev --set "$set_on" -o json >"$work/dev.json"
[ "$(extract "$work/dev.json" script CronJob sharedinfra-postgres-backup upload)" = "$(extract "$rendered" script CronJob sharedinfra-etcd-backup upload)" ] ||
  fail "dev's dump upload script differs from etcd's"
grep -qx 'BACKUP_GLOB=dump-\*.sql.gz' <<<"$(extract "$work/dev.json" env CronJob sharedinfra-postgres-backup upload)" || fail "dev's dump BACKUP_GLOB"
echo "redis: $copy uploaded byte for byte; a re-run changed nothing; Vault's (vault-*.snap) and dev's dump uploads (dump-*.sql.gz) run the same script"
echo "backups-s3: all object storage checks passed against rclone $("$rclone_bin" version | head -n1 | cut -d' ' -f2) serve s3 in $((SECONDS - started))s"
