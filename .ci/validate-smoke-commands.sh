#!/usr/bin/env bash
# Run the smoke Jobs' own commands (`somagen smoke --mode dev`) against a real PostgreSQL and a
# real Redis started on loopback with the compose file's credentials and ports
# (`somagen env --mode dev --target compose`), as the kubelet would run them. Debian packages:
# postgresql, redis-server; util-linux's setpriv. Must run as root (it switches users).
#   - Each Job's Secret/ConfigMap volumes are laid out by .ci/kubelet-pod.py as the kubelet
#     does: owner root, group = the pod's fsGroup if set (else root), the rendered mode (plus
#     0440 with an fsGroup); the command then runs with setpriv as the pod's runAsUser,
#     runAsGroup and supplementalGroups (+ fsGroup). A Secret its user cannot read fails here.
#   - In every mode, every smoke Job's user must read every file mounted into it.
#   - Each Job's environment is rebuilt from the Job itself: configMapKeyRef entries take the
#     env contract's value of that key, plain entries their value; mount paths move into a temp
#     root holding the same credentials.
#   - Postgres runs as an unprivileged user (postgres, else nobody).
#   - Negative checks prove the commands can fail: a wrong password, a missing password, and a
#     Secret laid out without the fsGroup (root:root 0440) that the Job's user cannot read.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x .ci/venv/bin/python ] && echo .ci/venv/bin/python || echo python3 )}"
somagen="${SOMAGEN:-target/debug/somagen}"
[ -x "$somagen" ] || cargo build --quiet
[ "$(id -u)" = 0 ] || { echo "FAIL: run as root: the Jobs' commands run as their own uid/gid (setpriv), on files owned by root as the kubelet leaves them" >&2; exit 2; }
command -v setpriv >/dev/null || { echo "setpriv missing: apt-get install -y util-linux" >&2; exit 2; }
command -v redis-server >/dev/null || { echo "redis-server missing: apt-get install -y redis-server" >&2; exit 2; }
pgbin=""
if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then pgbin="$(dirname "$(command -v initdb)")"; fi
if [ -z "$pgbin" ]; then
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && pgbin="$d"; done
fi
[ -n "$pgbin" ] || { echo "PostgreSQL server missing: apt-get install -y postgresql" >&2; exit 2; }
command -v psql >/dev/null || { echo "psql missing: apt-get install -y postgresql-client" >&2; exit 2; }

work="$(mktemp -d)"; chmod 755 "$work"
pids=()
user=postgres; id "$user" >/dev/null 2>&1 || user=nobody
as_user=(runuser -u "$user" --)
cleanup() {
  [ -f "$work/pg/data/postmaster.pid" ] && "${as_user[@]}" "$pgbin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# as_pod IDLINE CMD...: run CMD with the uid, gid and groups of a kubelet-pod.py "uid=" line.
as_pod() {
  local idline="$1" uid gid groups; shift
  uid="$(sed -n 's/^uid=\([0-9]*\) .*/\1/p' <<<"$idline")"
  gid="$(sed -n 's/.* gid=\([0-9]*\) .*/\1/p' <<<"$idline")"
  groups="$(sed -n 's/.* groups=\([0-9,]*\)$/\1/p' <<<"$idline")"
  [ -n "$uid" ] && [ -n "$gid" ] || { echo "FAIL: no uid/gid in '$idline'" >&2; return 2; }
  if [ -n "$groups" ]; then
    setpriv --reuid="$uid" --regid="$gid" --groups="$groups" -- "$@"
  else
    setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
  fi
}

# --- Every mode: each smoke Job's user reads every file mounted into it ----------------------
for mode in dev test staging prod-lite prod; do
  "$somagen" smoke --mode "$mode" > "$work/smoke-$mode.yaml"
  root="$work/layout-$mode"; mkdir -p "$root"; chmod 755 "$root"
  "$PYTHON" .ci/kubelet-pod.py "$work/smoke-$mode.yaml" '*' '' "$root" > "$work/layout-$mode.txt"
  files=0; pod=""; idline=""
  while IFS= read -r line; do
    case "$line" in
      pod=*) pod="${line#pod=}" ;;
      uid=*) idline="$line" ;;
      file=*)
        f="${line#file=}"; files=$((files + 1))
        if ! as_pod "$idline" cat "$f" >/dev/null 2>"$work/err"; then
          echo "FAIL $mode: smoke Job $pod ($idline) cannot read ${f#"$root"/*/*/} ($(stat -c '%U:%G %a' "$f")): $(cat "$work/err")" >&2
          exit 1
        fi ;;
    esac
  done < "$work/layout-$mode.txt"
  echo "ok   $mode: every smoke Job's user reads its $files mounted Secret/ConfigMap files as the kubelet lays them out"
done

"$somagen" env --mode dev --target compose > "$work/contract.env"
set -a; . "$work/contract.env"; set +a

# job_script CHECK ROOT: the Job's script, with its env exported and its mount paths below ROOT.
job_script() {
  "$PYTHON" - "$work/smoke-dev.yaml" "$1" "$2" <<'PY'
import os, shlex, sys, yaml
path, check, root = sys.argv[1:4]
for doc in yaml.safe_load_all(open(path)):
    if not doc or doc["metadata"]["name"] != f"sharedinfra-smoke-{check}":
        continue
    c = doc["spec"]["template"]["spec"]["containers"][0]
    for e in c.get("env", []):
        if "value" in e:
            value = e["value"]
        else:
            ref = e["valueFrom"]["configMapKeyRef"]
            assert ref["name"] == "sharedinfra-endpoints", ref
            value = os.environ[ref["key"]]
        print(f"export {e['name']}={shlex.quote(value)}")
    assert c["command"][:2] in (["sh", "-ec"], ["bash", "-ec"]), c["command"]
    script = c["command"][2]
    for m in c.get("volumeMounts", []):
        if m["mountPath"] != "/tmp":
            script = script.replace(m["mountPath"] + "/", root + m["mountPath"] + "/")
    print(script)
    break
else:
    sys.exit(f"no smoke Job for {check}")
PY
}

# run_job CHECK CONTENTS.json: lay out the Job's volumes with CONTENTS, run its script as its user.
run_job() {
  local check="$1" contents="$2" root="$work/job-$1" idline
  rm -rf "$root"; mkdir -p "$root/tmp"; chmod 755 "$root"; chmod 1777 "$root/tmp"
  "$PYTHON" .ci/kubelet-pod.py "$work/smoke-dev.yaml" "sharedinfra-smoke-$check" '' "$root" "$contents" > "$root.layout"
  idline="$(head -n 1 "$root.layout")"
  job_script "$check" "$root" > "$work/$check.sh"; chmod 644 "$work/$check.sh"
  (cd "$root/tmp" && as_pod "$idline" env HOME="$root/tmp" sh -e "$work/$check.sh")
}

wait_for() { local what="$1"; shift; for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "FAIL: $what" >&2; return 1; }
json() { "$PYTHON" -c 'import json,sys; print(json.dumps({sys.argv[1]: {sys.argv[2]: sys.argv[3]}}))' "$@"; }

# --- PostgreSQL with the compose credentials on the compose port -----------------------------
mkdir -p "$work/pg"
printf '%s' "$POSTGRES_PASSWORD" > "$work/pg/pwfile"
chown -R "$user" "$work/pg"
"${as_user[@]}" "$pgbin/initdb" -D "$work/pg/data" -U "$POSTGRES_USER" --pwfile="$work/pg/pwfile" \
  --auth=scram-sha-256 >"$work/pg/initdb.log" 2>&1 || { cat "$work/pg/initdb.log" >&2; exit 1; }
"${as_user[@]}" "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w -o \
  "-c listen_addresses=localhost -p $POSTGRES_PORT -c unix_socket_directories=$work/pg" start >/dev/null \
  || { cat "$work/pg/server.log" >&2; exit 1; }
PGPASSWORD="$POSTGRES_PASSWORD" psql -w -X -h 127.0.0.1 -p "$POSTGRES_PORT" -U "$POSTGRES_USER" -d postgres \
  -qc "CREATE DATABASE \"$POSTGRES_DB\"" >/dev/null

json Secret/sharedinfra-postgres password "$POSTGRES_PASSWORD" > "$work/pg-good.json"
run_job postgres "$work/pg-good.json"
echo "ok   postgres: the smoke Job's psql SELECT 1 passes as its user against PostgreSQL on $POSTGRES_HOST:$POSTGRES_PORT"
json Secret/sharedinfra-postgres password wrong-password > "$work/pg-bad.json"
if run_job postgres "$work/pg-bad.json" >/dev/null 2>&1; then echo "FAIL: postgres smoke passed with a wrong password" >&2; exit 1; fi
echo "ok   postgres: it fails with a wrong password"
# The same Job without its fsGroup: the kubelet leaves the Secret root:root 0440.
"$PYTHON" - "$work/smoke-dev.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
for d in docs:
    d["spec"]["template"]["spec"]["securityContext"].pop("fsGroup", None)
yaml.safe_dump_all(docs, open(sys.argv[1] + ".nofsgroup", "w"))
PY
cp "$work/smoke-dev.yaml" "$work/smoke-dev.yaml.orig"; cp "$work/smoke-dev.yaml.nofsgroup" "$work/smoke-dev.yaml"
if run_job postgres "$work/pg-good.json" >/dev/null 2>"$work/err"; then echo "FAIL: the postgres Job read a root:root 0440 Secret without fsGroup: the check cannot see the bug" >&2; exit 1; fi
grep -q 'Permission denied' "$work/err" || { echo "FAIL: expected 'Permission denied' without fsGroup, got:" >&2; cat "$work/err" >&2; exit 1; }
cp "$work/smoke-dev.yaml.orig" "$work/smoke-dev.yaml"
echo "ok   postgres: without the pod's fsGroup the Job's user gets 'Permission denied' on its Secret"

# --- Redis without auth (compose) and with a password (cluster) ------------------------------
redis-server --port "$REDIS_PORT" --bind "127.0.0.1 -::1" --save "" --appendonly no --daemonize no \
  > "$work/redis.log" 2>&1 &
pids+=("$!")
wait_for "redis-server on :$REDIS_PORT" redis-cli -p "$REDIS_PORT" ping
json Secret/sharedinfra-redis redis-password "$REDIS_PASSWORD" > "$work/redis-none.json"
run_job redis "$work/redis-none.json"
echo "ok   redis: the smoke Job's PING passes as its user against Redis on $REDIS_HOST:$REDIS_PORT (compose: no password)"
redis-cli -p "$REDIS_PORT" config set requirepass ci-only-redis-password >/dev/null
if run_job redis "$work/redis-none.json" >/dev/null 2>&1; then echo "FAIL: redis smoke passed without the password" >&2; exit 1; fi
json Secret/sharedinfra-redis redis-password ci-only-redis-password > "$work/redis-good.json"
run_job redis "$work/redis-good.json" >/dev/null
echo "ok   redis: with requirepass it fails without the password and passes with the mounted one"
echo "smoke commands: passed"
