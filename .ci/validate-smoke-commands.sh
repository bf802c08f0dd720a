#!/usr/bin/env bash
# Run the smoke Jobs' own commands (`somagen smoke --mode dev`) against a real PostgreSQL and a
# real Redis started on loopback with the compose file's credentials and ports
# (`somagen env --mode dev --target compose`). Debian packages: postgresql, redis-server.
#   - Postgres runs as an unprivileged user (postgres, else nobody) when started as root.
#   - Each Job's environment is rebuilt from the Job itself: configMapKeyRef entries take the
#     env contract's value of that key, plain entries their value; /run/secrets/<dir>/<key> files
#     are written into a temp dir holding the same credentials.
#   - Negative checks prove the commands can fail: a wrong password, a down server.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x .ci/venv/bin/python ] && echo .ci/venv/bin/python || echo python3 )}"
somagen="${SOMAGEN:-target/debug/somagen}"
[ -x "$somagen" ] || cargo build --quiet
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
as_user=()
if [ "$(id -u)" = 0 ]; then
  user=postgres; id "$user" >/dev/null 2>&1 || user=nobody
  as_user=(runuser -u "$user" --)
fi
cleanup() {
  [ -f "$work/pg/data/postmaster.pid" ] && "${as_user[@]}" "$pgbin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$somagen" env --mode dev --target compose > "$work/contract.env"
"$somagen" smoke --mode dev > "$work/smoke.yaml"
set -a; . "$work/contract.env"; set +a

# job_script CHECK: the Job's script, with its env exported and /run/secrets moved to $work.
job_script() {
  "$PYTHON" - "$work/smoke.yaml" "$1" "$work/secrets" <<'PY'
import os, shlex, sys, yaml
path, check, secrets = sys.argv[1:4]
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
        if e["name"] == "HOME":
            continue
        print(f"export {e['name']}={shlex.quote(value)}")
    assert c["command"][:2] in (["sh", "-ec"], ["bash", "-ec"]), c["command"]
    print(c["command"][2].replace("/run/secrets/", secrets + "/"))
    break
else:
    sys.exit(f"no smoke Job for {check}")
PY
}

wait_for() { local what="$1"; shift; for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "FAIL: $what" >&2; return 1; }

# --- PostgreSQL with the compose credentials on the compose port -----------------------------
mkdir -p "$work/pg" "$work/secrets/postgres" "$work/secrets/redis"
printf '%s' "$POSTGRES_PASSWORD" > "$work/pg/pwfile"
[ ${#as_user[@]} -gt 0 ] && chown -R "$user" "$work/pg"
"${as_user[@]}" "$pgbin/initdb" -D "$work/pg/data" -U "$POSTGRES_USER" --pwfile="$work/pg/pwfile" \
  --auth=scram-sha-256 >"$work/pg/initdb.log" 2>&1 || { cat "$work/pg/initdb.log" >&2; exit 1; }
"${as_user[@]}" "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w -o \
  "-c listen_addresses=localhost -p $POSTGRES_PORT -c unix_socket_directories=$work/pg" start >/dev/null \
  || { cat "$work/pg/server.log" >&2; exit 1; }
PGPASSWORD="$POSTGRES_PASSWORD" psql -w -X -h 127.0.0.1 -p "$POSTGRES_PORT" -U "$POSTGRES_USER" -d postgres \
  -qc "CREATE DATABASE \"$POSTGRES_DB\"" >/dev/null

printf '%s' "$POSTGRES_PASSWORD" > "$work/secrets/postgres/password"
job_script postgres > "$work/postgres.sh"
sh -e "$work/postgres.sh"
echo "ok   postgres: the smoke Job's psql SELECT 1 passes against PostgreSQL on $POSTGRES_HOST:$POSTGRES_PORT"
printf 'wrong-password' > "$work/secrets/postgres/password"
if sh -e "$work/postgres.sh" >/dev/null 2>&1; then echo "FAIL: postgres smoke passed with a wrong password" >&2; exit 1; fi
echo "ok   postgres: it fails with a wrong password"

# --- Redis without auth (compose) and with a password (cluster) ------------------------------
redis-server --port "$REDIS_PORT" --bind "127.0.0.1 -::1" --save "" --appendonly no --daemonize no \
  > "$work/redis.log" 2>&1 &
pids+=("$!")
wait_for "redis-server on :$REDIS_PORT" redis-cli -p "$REDIS_PORT" ping
printf '%s' "$REDIS_PASSWORD" > "$work/secrets/redis/redis-password"
job_script redis > "$work/redis.sh"
sh -e "$work/redis.sh"
echo "ok   redis: the smoke Job's PING passes against Redis on $REDIS_HOST:$REDIS_PORT (compose: no password)"
redis-cli -p "$REDIS_PORT" config set requirepass ci-only-redis-password >/dev/null
if sh -e "$work/redis.sh" >/dev/null 2>&1; then echo "FAIL: redis smoke passed without the password" >&2; exit 1; fi
printf 'ci-only-redis-password' > "$work/secrets/redis/redis-password"
sh -e "$work/redis.sh" >/dev/null
echo "ok   redis: with requirepass it fails without the password and passes with the mounted one"
echo "smoke commands: passed"
