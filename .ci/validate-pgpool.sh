#!/usr/bin/env bash
# pgpool admits the users of Secret sharedinfra-pgpool whatever their passwords hold, with a real
# PostgreSQL and Debian's pgpool (packages postgresql, pgpool2) on loopback:
#   - mode dev is rendered with passwords holding a space, ", \, #, $, a comma and ; (-f values);
#   - the rendered Secret's usernames/passwords (one entry per line) and the rendered init script
#     of ConfigMap sharedinfra-pgpool-init (what the image runs from /docker-entrypoint-initdb.d)
#     fill pool_passwd with pg_enc (AES, the image's scram set-up);
#   - the init script refuses a Secret that lacks a user of the pod's SHAREDINFRA_PGPOOL_USERS;
#   - pgpool (scram-sha-256 in pool_hba.conf, pool_passwd, the AES key) then admits each user
#     with its password through to PostgreSQL, and refuses a wrong one;
#   - staging with the sample app: the ExternalSecret's template, executed by Go's text/template
#     on stand-in passwords, gives a Secret that the init script admits with soma, admin, sa01.
# Only the Secret's paths are moved into a temp dir; the script is the rendered text.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x .ci/venv/bin/python ] && echo .ci/venv/bin/python || echo python3 )}"
somagen="${SOMAGEN:-target/debug/somagen}"
[ -x "$somagen" ] || cargo build --quiet
command -v pgpool >/dev/null && command -v pg_enc >/dev/null || { echo "pgpool missing: apt-get install -y pgpool2" >&2; exit 2; }
pgbin=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && pgbin="$d"; done
[ -n "$pgbin" ] || { echo "PostgreSQL server missing: apt-get install -y postgresql" >&2; exit 2; }
command -v psql >/dev/null || { echo "psql missing: apt-get install -y postgresql-client" >&2; exit 2; }

work="$(mktemp -d)"; chmod 755 "$work"
as_user=()
if [ "$(id -u)" = 0 ]; then
  user=postgres; id "$user" >/dev/null 2>&1 || user=nobody
  as_user=(runuser -u "$user" --)
fi
pgpool_pid=""
cleanup() {
  [ -n "$pgpool_pid" ] && kill "$pgpool_pid" 2>/dev/null && wait "$pgpool_pid" 2>/dev/null || true
  [ -f "$work/pg/data/postmaster.pid" ] && "${as_user[@]}" "$pgbin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { local what="$1"; shift; for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "FAIL: $what" >&2; tail -n 20 "$work"/pgpool/*.log "$work"/pg/*.log >&2 2>/dev/null; return 1; }

# --- Render dev with hostile passwords; take the Secret and the init script ------------------
cat > "$work/hostile.yaml" <<'YAML'
postgres:
  auth:
    password: 'app pass "q" \b #1 $HOME, a;b'
    adminPassword: "admin; pass, \"x\" \\ #$(id)"
YAML
# Without the sample app, whose own role pgpool would list too.
"$somagen" render --mode dev -f "$work/hostile.yaml" --set apps.sa01.enabled=false -o json > "$work/dev.json"
mkdir -p "$work/secrets" "$work/pgpool"
"$PYTHON" - "$work/dev.json" "$work" <<'PY'
import base64, json, sys
items = json.load(open(sys.argv[1]))["items"]
work = sys.argv[2]
def get(kind, name):
    for o in items:
        if o["kind"] == kind and o["metadata"]["name"] == name:
            return o
    sys.exit(f"FAIL: {kind}/{name} is not rendered")
data = {k: base64.b64decode(v).decode() for k, v in get("Secret", "sharedinfra-pgpool")["data"].items()}
want_users = ["soma", "admin"]
want_passwords = ['app pass "q" \\b #1 $HOME, a;b', 'admin; pass, "x" \\ #$(id)']
if data["usernames"].split("\n") != want_users or data["passwords"].split("\n") != want_passwords:
    sys.exit(f"FAIL: sharedinfra-pgpool lists {data['usernames']!r} / {data['passwords']!r}, "
             f"want one entry per line {want_users!r} / {want_passwords!r}")
for key in ("usernames", "passwords"):
    open(f"{work}/secrets/{key}", "w").write(data[key])
script = get("ConfigMap", "sharedinfra-pgpool-init")["data"]["20-users.sh"]
if "/opt/bitnami/pgpool/secrets" not in script:
    sys.exit("FAIL: 20-users.sh does not read /opt/bitnami/pgpool/secrets")
open(f"{work}/20-users.sh", "w").write(script.replace("/opt/bitnami/pgpool/secrets", f"{work}/secrets"))
json.dump(list(zip(want_users, want_passwords)), open(f"{work}/users.json", "w"))
(pgpool,) = get("Deployment", "sharedinfra-postgres-pgpool")["spec"]["template"]["spec"]["containers"][:1]
expected = {e["name"]: e.get("value") for e in pgpool["env"]}["SHAREDINFRA_PGPOOL_USERS"]
if expected.split("\n") != want_users:
    sys.exit(f"FAIL: pgpool's SHAREDINFRA_PGPOOL_USERS is {expected!r}, want {want_users!r}")
open(f"{work}/expected-users", "w").write(expected)
PY
echo "ok   dev: sharedinfra-pgpool lists the hostile passwords one per line, in the users' order"

# --- PostgreSQL with the two roles ------------------------------------------------------------
pg_port="$(free_port)"; pp_port="$(free_port)"; pcp_port="$(free_port)"
mkdir -p "$work/pg"
printf 'ci-only-postgres' > "$work/pg/pwfile"
[ ${#as_user[@]} -gt 0 ] && chown -R "$user" "$work/pg" "$work/pgpool" "$work/secrets"
"${as_user[@]}" "$pgbin/initdb" -D "$work/pg/data" -U postgres --pwfile="$work/pg/pwfile" --auth=scram-sha-256 \
  > "$work/pg/initdb.log" 2>&1 || { cat "$work/pg/initdb.log" >&2; exit 1; }
"${as_user[@]}" "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w -o \
  "-c listen_addresses=127.0.0.1 -p $pg_port -c unix_socket_directories=$work/pg" start >/dev/null \
  || { cat "$work/pg/server.log" >&2; exit 1; }
"$PYTHON" - "$work/users.json" <<'PY' > "$work/roles.sql"
import json, sys
for user, password in json.load(open(sys.argv[1])):
    literal = "'" + password.replace("'", "''") + "'"
    print(f'CREATE ROLE "{user}" LOGIN PASSWORD {literal};')
PY
PGPASSWORD=ci-only-postgres psql -w -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres \
  -f "$work/roles.sql" >/dev/null

# --- pgpool: the image's scram set-up (AES key, pool_passwd, pool_hba), then the init script ---
cat > "$work/pgpool/pgpool.conf" <<EOF
backend_clustering_mode = 'raw'
listen_addresses = '127.0.0.1'
port = $pp_port
unix_socket_directories = '$work/pgpool'
pcp_listen_addresses = ''
pcp_port = $pcp_port
pcp_socket_dir = '$work/pgpool'
backend_hostname0 = '127.0.0.1'
backend_port0 = $pg_port
backend_weight0 = 1
backend_flag0 = 'DISALLOW_TO_FAILOVER'
enable_pool_hba = on
pool_passwd = 'pool_passwd'
pid_file_name = '$work/pgpool/pgpool.pid'
logdir = '$work/pgpool'
health_check_period = 0
sr_check_period = 0
num_init_children = 4
EOF
printf 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n' > "$work/pgpool/pool_hba.conf"
: > "$work/pgpool/pcp.conf"; : > "$work/pgpool/pool_passwd"
printf 'ci-only-aes-key\n' > "$work/pgpool/.pgpoolkey"; chmod 600 "$work/pgpool/.pgpoolkey"
[ ${#as_user[@]} -gt 0 ] && chown -R "$user" "$work/pgpool"
init_users() { # SHAREDINFRA_PGPOOL_USERS: the pod's env
  "${as_user[@]}" env PGPOOL_CONF_FILE="$work/pgpool/pgpool.conf" PGPOOLKEYFILE="$work/pgpool/.pgpoolkey" \
    SHAREDINFRA_PGPOOL_USERS="$1" bash "$work/20-users.sh"
}
# A pod whose render admits another user (an app external-secrets has not synced yet) refuses
# to start, and says why.
if init_users "$(printf 'soma\nadmin\nsa02')" > "$work/pgpool/stale.log" 2>&1 || [ -s "$work/pgpool/pool_passwd" ]; then
  cat "$work/pgpool/stale.log" >&2; echo "FAIL: 20-users.sh started with a Secret that lacks user sa02" >&2; exit 1
fi
grep -q 'lists users soma admin but this pod expects soma admin sa02: waiting for the Secret to be synced' "$work/pgpool/stale.log" \
  || { cat "$work/pgpool/stale.log" >&2; echo "FAIL: 20-users.sh refused a stale Secret without saying why" >&2; exit 1; }
echo "ok   20-users.sh refuses a Secret that lacks a user of the render: $(cat "$work/pgpool/stale.log")"
init_users "$(cat "$work/expected-users")" > "$work/pgpool/init.log" 2>&1 \
  || { cat "$work/pgpool/init.log" >&2; echo "FAIL: 20-users.sh" >&2; exit 1; }
[ "$(cut -d: -f1 "$work/pgpool/pool_passwd" | paste -sd,)" = "soma,admin" ] \
  || { echo "FAIL: pool_passwd holds $(cut -d: -f1 "$work/pgpool/pool_passwd" | paste -sd,), want soma,admin" >&2; exit 1; }
"${as_user[@]}" pgpool -n -f "$work/pgpool/pgpool.conf" -a "$work/pgpool/pool_hba.conf" -F "$work/pgpool/pcp.conf" \
  -k "$work/pgpool/.pgpoolkey" > "$work/pgpool/pgpool.log" 2>&1 &
pgpool_pid="$!"
listening() { "$PYTHON" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$pp_port"; }
wait_for "pgpool listens on :$pp_port" listening

# --- Each user through pgpool with its password; a wrong one refused --------------------------
n=0
while IFS=$'\t' read -r u p; do
  got="$(PGPASSWORD="$p" PGCONNECT_TIMEOUT=5 psql -w -X -h 127.0.0.1 -p "$pp_port" -U "$u" -d postgres -tAc 'SELECT current_user' 2>"$work/err")" \
    || { echo "FAIL: pgpool refused $u with its password:" >&2; cat "$work/err" >&2; tail -n 5 "$work/pgpool/pgpool.log" >&2; exit 1; }
  [ "$got" = "$u" ] || { echo "FAIL: connected as '$got', want $u" >&2; exit 1; }
  if PGPASSWORD="${p%?}" PGCONNECT_TIMEOUT=5 psql -w -X -h 127.0.0.1 -p "$pp_port" -U "$u" -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
    echo "FAIL: pgpool admitted $u with a truncated password" >&2; exit 1
  fi
  n=$((n + 1))
done < <("$PYTHON" -c 'import json,sys; [print(u + "\t" + p) for u, p in json.load(open(sys.argv[1]))]' "$work/users.json")
[ "$n" = 2 ] || { echo "FAIL: checked $n users, want 2" >&2; exit 1; }
echo "ok   pgpool $(pgpool --version 2>&1 | awk '{print $3}'): scram through pool_passwd admits soma and admin with their hostile passwords, refuses wrong ones"

# --- From staging on: external-secrets joins the passwords ------------------------------------
# The rendered target template of ExternalSecret sharedinfra-pgpool, executed by Go's
# text/template (the engine of external-secrets' template v2; .ci/go/esotemplate) on stand-in
# passwords, gives the Secret that 20-users.sh admits with the pods' SHAREDINFRA_PGPOOL_USERS:
# adding an app to the values adds its role, with no list kept in Vault.
"$somagen" render --mode staging --set apps.sa01.enabled=true -o json > "$work/staging.json"
"$PYTHON" - "$work/staging.json" "$work" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))["items"]
work = sys.argv[2]
(es,) = [o for o in items if o["kind"] == "ExternalSecret" and o["metadata"]["name"] == "sharedinfra-pgpool"]
json.dump(es, open(f"{work}/pgpool-es.json", "w"))
keys = [d["secretKey"] for d in es["spec"]["data"]]
json.dump({k: f"{k} pass, \"q\" #$x" for k in keys}, open(f"{work}/pgpool-values.json", "w"))
(pgpool,) = [o for o in items if o["kind"] == "Deployment" and o["metadata"]["name"] == "sharedinfra-postgres-pgpool"]
env = {e["name"]: e.get("value") for e in pgpool["spec"]["template"]["spec"]["containers"][0]["env"]}
open(f"{work}/staging-users", "w").write(env["SHAREDINFRA_PGPOOL_USERS"])
PY
(cd .ci/go/esotemplate && GOFLAGS=-mod=mod go run . "$work/pgpool-es.json" "$work/pgpool-values.json") > "$work/pgpool-secret.json" \
  || { echo "FAIL: the template of ExternalSecret sharedinfra-pgpool does not execute" >&2; exit 1; }
mkdir -p "$work/staging/secrets"
"$PYTHON" - "$work/pgpool-secret.json" "$work/staging/secrets" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
for key in ("usernames", "passwords", "admin-password"):
    open(f"{sys.argv[2]}/{key}", "w").write(data[key])
PY
sed "s#$work/secrets#$work/staging/secrets#" "$work/20-users.sh" > "$work/staging/20-users.sh"
: > "$work/pgpool/pool_passwd"
"${as_user[@]}" env PGPOOL_CONF_FILE="$work/pgpool/pgpool.conf" PGPOOLKEYFILE="$work/pgpool/.pgpoolkey" \
  SHAREDINFRA_PGPOOL_USERS="$(cat "$work/staging-users")" bash "$work/staging/20-users.sh" > "$work/staging/init.log" 2>&1 \
  || { cat "$work/staging/init.log" >&2; echo "FAIL: 20-users.sh on staging's templated Secret" >&2; exit 1; }
[ "$(cut -d: -f1 "$work/pgpool/pool_passwd" | paste -sd,)" = "soma,admin,sa01" ] \
  || { echo "FAIL: staging's pool_passwd holds $(cut -d: -f1 "$work/pgpool/pool_passwd" | paste -sd,), want soma,admin,sa01" >&2; exit 1; }
echo "ok   staging: external-secrets' template (Go text/template) joins the passwords of soma, admin and sa01 from their own Vault keys; 20-users.sh admits all three"
echo "pgpool: passed"
