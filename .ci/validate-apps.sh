#!/usr/bin/env bash
# The application wire-up Jobs (templates/apps/jobs.yaml) run their own commands against the
# real programs, twice each: the second run must succeed and change nothing (idempotency).
#
#   .ci/validate-apps.sh
#
# - PostgreSQL (Debian's server): the rendered initdb script sharedinfra-postgres-initdb creates
#   role admin as on the cluster; then the database Job of app sa01 (dev) creates its role and
#   database; sa01 logs in with the password of its <app>-runtime Secret and owns the database;
#   PUBLIC lost CONNECT; run twice, the catalogue is unchanged.
# - Kafka 3.8 (KRaft broker on loopback from Maven Central's jars, .ci/components.sh kafka):
#   the topic Job's script, /opt/kafka/bin pointing at the same CLI classes; sa01.events has
#   the rendered partitions, replication factor and retention.ms; twice; then a raised
#   partition count is applied by the Job of that render.
# - Vault (the stack's version, `vault server -dev` on loopback, .ci/components.sh vault): the Vault Job of dev
#   (root token of sharedinfra-vault-dev, enables Kubernetes auth itself) twice; then staging's
#   (sa01 enabled with --set) twice with a token of policy sharedinfra-app-provisioner
#   (files/vault/app-provisioner.hcl, the runbook's bootstrap command), which may write app-*
#   policies and roles and nothing else; the app's policy reads its own key only.
# Every Job script runs as the Job's uid/gid (setpriv) on its Secret files laid out by
# .ci/kubelet-pod.py as the kubelet does, with its env rebuilt from the Job. Must run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x .ci/venv/bin/python ] && echo .ci/venv/bin/python || echo python3 )}"
somagen="${SOMAGEN:-target/debug/somagen}"
[ -x "$somagen" ] || cargo build --quiet
[ "$(id -u)" = 0 ] || { echo "FAIL: run as root: the Jobs' commands run as their own uid/gid (setpriv)" >&2; exit 2; }
command -v setpriv >/dev/null || { echo "setpriv missing: apt-get install -y util-linux" >&2; exit 2; }
pgbin=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && pgbin="$d"; done
[ -n "$pgbin" ] || { echo "PostgreSQL server missing: apt-get install -y postgresql" >&2; exit 2; }
kafka="$(.ci/components.sh --dir kafka)"
.ci/components.sh kafka | sed 's/^/apps: component /'

work="$(mktemp -d)"; chmod 755 "$work"
pids=()
pg_user=postgres; id "$pg_user" >/dev/null 2>&1 || pg_user=nobody
cleanup() {
  [ -f "$work/pg/data/postmaster.pid" ] && runuser -u "$pg_user" -- "$pgbin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { # seconds what command...
  local seconds="$1" deadline=$((SECONDS + $1)) what="$2"; shift 2
  until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $deadline ] || fail "$what: not ready after $seconds seconds"; sleep 0.5; done
}

"$somagen" render --mode dev > "$work/dev.yaml"
"$somagen" render --mode staging --set apps.sa01.enabled=true > "$work/staging.yaml"

# job_name STREAM APP STEP: the name of the app's wire-up Job for STEP (db, topics, vault).
job_name() {
  "$PYTHON" - "$@" <<'PY'
import sys, yaml
stream, app, step = sys.argv[1:4]
names = [d["metadata"]["name"] for d in yaml.safe_load_all(open(stream)) if d and d["kind"] == "Job"
         and d["metadata"]["labels"].get("soma.sh/app") == app and d["metadata"]["labels"].get("soma.sh/wire-up") == step]
if len(names) != 1:
    sys.exit(f"{stream}: expected one {step} Job of app {app}, found {names}")
print(names[0])
PY
}

# run_job STREAM JOB ROOT CONTENTS.json ENDPOINTS.json [PATH-REWRITE=TO]...: lays out the Job's
# Secret volumes below ROOT as the kubelet does (contents: CONTENTS, else the rendered Secret),
# rebuilds its env (the in-cluster endpoints it names are replaced by ENDPOINTS.json's loopback
# ones, {ENV_NAME: value}), rewrites mount paths into ROOT and each FROM=TO, and runs the Job's
# script with its shell, as its user.
run_job() {
  local stream="$1" job="$2" root="$3" contents="$4" endpoints="$5" idline uid gid groups; shift 5
  rm -rf "$root"; mkdir -p "$root/tmp"; chmod 755 "$root"; chmod 1777 "$root/tmp"
  "$PYTHON" - "$stream" "$contents" >"$root.contents" <<'PY'
import base64, json, sys, yaml
stream, given = sys.argv[1:3]
out = {}
for d in yaml.safe_load_all(open(stream)):
    if d and d["kind"] == "Secret":
        out["Secret/" + d["metadata"]["name"]] = {k: base64.b64decode(v).decode() for k, v in d.get("data", {}).items()}
for k, v in json.load(open(given)).items():
    out.setdefault(k, {}).update(v)
print(json.dumps(out))
PY
  "$PYTHON" .ci/kubelet-pod.py "$stream" "$job" '' "$root" "$root.contents" > "$root.layout"
  idline="$(head -n 1 "$root.layout")"
  "$PYTHON" - "$stream" "$job" "$root" "$endpoints" "$@" >"$root.sh" <<'PY'
import json, shlex, sys, yaml
stream, job, root, endpoints = sys.argv[1:5]
rewrites = [a.split("=", 1) for a in sys.argv[5:]]
contract = json.load(open(endpoints))
(doc,) = [d for d in yaml.safe_load_all(open(stream)) if d and d["kind"] == "Job" and d["metadata"]["name"] == job]
(c,) = doc["spec"]["template"]["spec"]["containers"]
shell, flag, script = c["command"]
assert (shell, flag) in (("sh", "-ec"), ("bash", "-ec")), c["command"]
def place(text):
    for m in c.get("volumeMounts", []):
        text = text.replace(m["mountPath"] + "/", root + m["mountPath"] + "/")
    for old, new in rewrites:
        text = text.replace(old, new)
    return text
print(f"#!/bin/{shell}")
print("set -e")
for e in c.get("env", []):
    value = contract.get(e["name"], e["value"])
    print(f"export {e['name']}={shlex.quote(place(value))}")
print(place(script))
PY
  chmod 755 "$root.sh"
  uid="$(sed -n 's/^uid=\([0-9]*\) .*/\1/p' <<<"$idline")"
  gid="$(sed -n 's/.* gid=\([0-9]*\) .*/\1/p' <<<"$idline")"
  groups="$(sed -n 's/.* groups=\([0-9,]*\)$/\1/p' <<<"$idline")"
  (cd "$root/tmp" && setpriv --reuid="$uid" --regid="$gid" --groups="${groups:-$gid}" -- \
    env -i PATH="$PATH" HOME="$root/tmp" "$root.sh")
}
json() { "$PYTHON" -c 'import json,sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' "$@"; }
echo '{}' > "$work/none.json"

# --- PostgreSQL --------------------------------------------------------------------------------
pg_port="$(free_port)"
mkdir -p "$work/pg/secrets"
# The credentials of the render (dev-only values of overlays/dev.yaml).
"$PYTHON" - "$work/dev.yaml" "$work/pg/secrets" <<'PY'
import base64, os, sys, yaml
stream, out = sys.argv[1:3]
docs = {d["metadata"]["name"]: d for d in yaml.safe_load_all(open(stream)) if d and d["kind"] == "Secret"}
keys = {"postgres-password": ("sharedinfra-postgres", "postgres-password"),
        "admin-password": ("sharedinfra-postgres-admin", "password")}
for file, (secret, key) in keys.items():
    open(os.path.join(out, file), "w").write(base64.b64decode(docs[secret]["data"][key]).decode())
PY
chown -R "$pg_user" "$work/pg"
runuser -u "$pg_user" -- "$pgbin/initdb" -D "$work/pg/data" -U postgres --pwfile="$work/pg/secrets/postgres-password" \
  --auth=scram-sha-256 >"$work/pg/initdb.log" 2>&1 || { cat "$work/pg/initdb.log" >&2; exit 1; }
runuser -u "$pg_user" -- "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w -o \
  "-c listen_addresses=127.0.0.1 -p $pg_port -c unix_socket_directories=$work/pg" start >/dev/null \
  || { cat "$work/pg/server.log" >&2; exit 1; }
pgsu() { PGPASSWORD="$(cat "$work/pg/secrets/postgres-password")" psql -w -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres "$@"; }
# What the Postgres image does at first init: the app role of postgres.username.
pgsu -d postgres -c "CREATE ROLE soma LOGIN PASSWORD 'ci-only'" >/dev/null
# Then the stack's own initdb script (admin with CREATEDB CREATEROLE), as rendered.
"$PYTHON" .ci/extract-data.py "$work/dev.yaml" configmap sharedinfra-postgres-initdb 10-admin.sh \
  | sed -e "s#/opt/bitnami/postgresql/secrets#$work/pg/secrets#" -e "s#-p 5432#-p $pg_port#" > "$work/pg/10-admin.sh"
bash "$work/pg/10-admin.sh" || fail "the rendered initdb script 10-admin.sh"
json PGHOST 127.0.0.1 PGPORT "$pg_port" > "$work/pg-endpoints.json"
catalogue() {
  pgsu -d postgres -tA -c "SELECT r.rolname, r.rolcanlogin, r.rolsuper, d.datname, pg_get_userbyid(d.datdba), d.datacl::text
    FROM pg_roles r LEFT JOIN pg_database d ON d.datdba = r.oid WHERE r.rolname = 'sa01' ORDER BY 1, 4"
  pgsu -d postgres -tA -c "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE r.rolname = 'sa01'"
}
db_job="$(job_name "$work/dev.yaml" sa01 db)"
run_job "$work/dev.yaml" "$db_job" "$work/job-db" "$work/none.json" "$work/pg-endpoints.json" > "$work/db-1.log" \
  || { cat "$work/db-1.log" >&2; fail "database Job $db_job (first run)"; }
catalogue > "$work/catalogue-1"
run_job "$work/dev.yaml" "$db_job" "$work/job-db" "$work/none.json" "$work/pg-endpoints.json" > "$work/db-2.log" \
  || { cat "$work/db-2.log" >&2; fail "database Job $db_job (second run)"; }
catalogue > "$work/catalogue-2"
diff -u "$work/catalogue-1" "$work/catalogue-2" || fail "the second run of $db_job changed the catalogue"
grep -q '^sa01|t|f|sa01|sa01|' "$work/catalogue-1" || { cat "$work/catalogue-1" >&2; fail "role sa01 (LOGIN, not superuser) does not own database sa01"; }
app_password="$("$PYTHON" - "$work/dev.yaml" <<'PY'
import base64, sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "Secret" and d["metadata"]["name"] == "sa01-runtime":
        print(base64.b64decode(d["data"]["POSTGRES_PASSWORD"]).decode())
PY
)"
out="$(PGPASSWORD="$app_password" psql -w -X -q -h 127.0.0.1 -p "$pg_port" -U sa01 -d sa01 -tAc \
  "CREATE TABLE wired (id int); INSERT INTO wired VALUES (1); SELECT count(*) FROM wired")" || fail "sa01 cannot log in to its database with the password of Secret sa01-runtime"
[ "$out" = 1 ] || fail "sa01 could not write to its database: $out"
if PGPASSWORD=ci-only psql -w -X -h 127.0.0.1 -p "$pg_port" -U soma -d sa01 -tAc 'SELECT 1' >/dev/null 2>&1; then
  fail "another role (soma) connects to database sa01: CONNECT was not revoked from PUBLIC"
fi
echo "ok   postgres $("$pgbin/postgres" --version | awk '{print $3}'): database Job $db_job run twice as uid 1001: role sa01 owns database sa01, logs in with sa01-runtime's password, other roles refused; second run changed nothing"

# --- Kafka ---------------------------------------------------------------------------------------
k_port="$(free_port)"; k_ctl="$(free_port)"
mkdir -p "$work/kafka"
cat > "$work/kafka/server.properties" <<EOF
process.roles=broker,controller
node.id=0
controller.quorum.voters=0@127.0.0.1:$k_ctl
listeners=PLAINTEXT://127.0.0.1:$k_port,CONTROLLER://127.0.0.1:$k_ctl
advertised.listeners=PLAINTEXT://127.0.0.1:$k_port
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$work/kafka/logs
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
EOF
cluster_id="$("$somagen" values --mode dev -o json | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["kafka"]["clusterId"])')"
"$kafka/bin/kafka-storage.sh" format -t "$cluster_id" \
  -c "$work/kafka/server.properties" >"$work/kafka/format.log" 2>&1 || { cat "$work/kafka/format.log" >&2; fail "kafka-storage format"; }
KAFKA_HEAP_OPTS="-Xmx512m" "$kafka/bin/kafka-server-start.sh" "$work/kafka/server.properties" >"$work/kafka/server.log" 2>&1 &
pids+=("$!")
wait_for 90 "Kafka broker on 127.0.0.1:$k_port" "$kafka/bin/kafka-topics.sh" --bootstrap-server "127.0.0.1:$k_port" --list
# The Jobs run as their own uid, which cannot enter the cache in root's home: a copy.
cp -r "$kafka" "$work/kafka-dist"; chmod -R a+rX "$work/kafka-dist"; kafka="$work/kafka-dist"
json KAFKA_BOOTSTRAP_SERVERS "127.0.0.1:$k_port" > "$work/kafka-endpoints.json"
describe() {
  "$kafka/bin/kafka-topics.sh" --bootstrap-server "127.0.0.1:$k_port" --describe --topic sa01.events | head -n 1 \
    | sed -n 's/.*PartitionCount: *\([0-9]*\).*ReplicationFactor: *\([0-9]*\).*/partitions=\1 replication=\2/p'
  "$kafka/bin/kafka-configs.sh" --bootstrap-server "127.0.0.1:$k_port" --describe --entity-type topics --entity-name sa01.events \
    | grep -o 'retention.ms=[0-9]*' | head -n 1
}
topics_job="$(job_name "$work/dev.yaml" sa01 topics)"
for run in 1 2; do
  run_job "$work/dev.yaml" "$topics_job" "$work/job-topics" "$work/none.json" "$work/kafka-endpoints.json" /opt/kafka/bin="$kafka/bin" \
    > "$work/topics-$run.log" 2>&1 || { cat "$work/topics-$run.log" >&2; fail "topic Job $topics_job (run $run)"; }
  describe > "$work/topic-$run"
done
diff -u "$work/topic-1" "$work/topic-2" || fail "the second run of $topics_job changed the topic"
[ "$(tr '\n' ' ' < "$work/topic-1")" = "partitions=6 replication=1 retention.ms=259200000 " ] || { cat "$work/topic-1" >&2; fail "sa01.events is not 6 partitions, replication 1, retention 3 days"; }
"$somagen" render --mode dev --set 'apps.sa01.topics[0].name=events,apps.sa01.topics[0].partitions=8' > "$work/dev-8.yaml"
topics8="$(job_name "$work/dev-8.yaml" sa01 topics)"
[ "$topics8" != "$topics_job" ] || fail "a changed topic entry kept the Job name $topics_job (Jobs are immutable)"
run_job "$work/dev-8.yaml" "$topics8" "$work/job-topics8" "$work/none.json" "$work/kafka-endpoints.json" /opt/kafka/bin="$kafka/bin" \
  > "$work/topics-8.log" 2>&1 || { cat "$work/topics-8.log" >&2; fail "topic Job $topics8"; }
for _ in 1 2 3 4 5 6 7 8 9 10; do  # the new partition count reaches the metadata within seconds
  describe > "$work/topic-8"; grep -qx "partitions=8 replication=1" "$work/topic-8" && break; sleep 1
done
grep -qx "partitions=8 replication=1" "$work/topic-8" || { cat "$work/topics-8.log" "$work/topic-8" >&2; fail "the Job with partitions 8 did not raise sa01.events to 8 partitions"; }
echo "ok   kafka $(.ci/components.sh --version kafka) (KRaft): topic Job $topics_job run twice as uid 1000: sa01.events has 6 partitions, replication 1, retention.ms 259200000; second run changed nothing; a render with 8 partitions is a new Job that raises them"

# --- Vault ---------------------------------------------------------------------------------------
vault_dir="$(.ci/components.sh --dir vault)"
.ci/components.sh vault | sed 's/^/apps: component /'
v_port="$(free_port)"
root_token="$("$PYTHON" - "$work/dev.yaml" <<'PY'
import base64, sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "Secret" and d["metadata"]["name"] == "sharedinfra-vault-dev":
        print(base64.b64decode(d["data"]["root-token"]).decode())
PY
)"
mkdir -p "$work/vault"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/vault/cluster-ca.key" -out "$work/vault/cluster-ca.crt" \
  -days 1 -subj /CN=ci-cluster-ca 2>/dev/null
# start_vault NAME PORT ARGS...: `vault server -dev` as in its pod, with the cluster CA the
# kubelet mounts there (`auth/kubernetes/config` reads it): a private mount namespace puts a
# tmpfs over /run, so nothing outside the test changes.
start_vault() {
  local name="$1" port="$2"; shift 2
  unshare --mount --propagation private sh -c 'mount -t tmpfs tmpfs /run &&
    mkdir -p /run/secrets/kubernetes.io/serviceaccount && cp "$1" /run/secrets/kubernetes.io/serviceaccount/ca.crt &&
    shift && exec "$@"' sh "$work/vault/cluster-ca.crt" \
    "$vault_dir/vault" server -dev -dev-root-token-id="$root_token" -dev-listen-address="127.0.0.1:$port" "$@" \
    >"$work/vault/$name.log" 2>&1 &
  pids+=("$!")
  wait_for 30 "vault server -dev ($name) on 127.0.0.1:$port" "$vault_dir/vault" status
}
export VAULT_ADDR="http://127.0.0.1:$v_port"
start_vault dev "$v_port"
mkdir -p "$work/vault-bin"; cp "$vault_dir/vault" "$work/vault-bin/"; chmod -R a+rX "$work/vault-bin"
PATH="$work/vault-bin:$PATH"
json VAULT_ADDR "$VAULT_ADDR" > "$work/vault-endpoints.json"
role() { VAULT_TOKEN="$root_token" vault read -format=json auth/kubernetes/role/sa01 | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)["data"]
print(d["bound_service_account_names"], d["bound_service_account_namespaces"], d["token_policies"], d["token_ttl"])'; }
vault_job="$(job_name "$work/dev.yaml" sa01 vault)"
for run in 1 2; do
  run_job "$work/dev.yaml" "$vault_job" "$work/job-vault" "$work/none.json" "$work/vault-endpoints.json" > "$work/vault-$run.log" 2>&1 \
    || { cat "$work/vault-$run.log" >&2; fail "Vault Job $vault_job (run $run)"; }
  { role; VAULT_TOKEN="$root_token" vault policy read app-sa01; } > "$work/vault-state-$run"
done
diff -u "$work/vault-state-1" "$work/vault-state-2" || fail "the second run of $vault_job changed the role or policy"
head -n 1 "$work/vault-state-1" | grep -qx "\['sa01-sa'\] \['sa01'\] \['app-sa01'\] 86400" || { cat "$work/vault-state-1" >&2; fail "role sa01 is not bound to sa01/sa01-sa with policy app-sa01 and ttl 24h"; }
echo "ok   vault $(vault version | awk '{print $2}') dev: Vault Job $vault_job run twice as uid 100 (root token of sharedinfra-vault-dev): Kubernetes auth enabled, role sa01 bound to sa01/sa01-sa, policy app-sa01, ttl 24h; second run changed nothing"

# Staging and later: Vault speaks HTTPS (a dev server with its own CA, which the Job reads as
# sharedinfra-vault-tls's ca.crt); the runbook's bootstrap (Kubernetes auth is on; the
# provisioner policy and its token), then the staging Job with that token.
s_port="$(free_port)"
export VAULT_ADDR="https://127.0.0.1:$s_port" VAULT_CACERT="$work/vault/tls/vault-ca.pem"
mkdir -p "$work/vault/tls"
start_vault staging "$s_port" -dev-tls -dev-tls-cert-dir="$work/vault/tls"
json VAULT_ADDR "$VAULT_ADDR" > "$work/vault-endpoints.json"
export VAULT_TOKEN="$root_token"
vault auth enable kubernetes >/dev/null
vault write auth/kubernetes/config kubernetes_host=https://kubernetes.default.svc >/dev/null
vault policy write sharedinfra-app-provisioner files/vault/app-provisioner.hcl >/dev/null
provisioner_token="$(vault token create -policy=sharedinfra-app-provisioner -period=24h -field=token)"
unset VAULT_TOKEN
"$PYTHON" - "$provisioner_token" "$VAULT_CACERT" > "$work/vault-provisioner.json" <<'PY'
import json, sys
token, ca = sys.argv[1:3]
print(json.dumps({"Secret/sharedinfra-vault-provisioner": {"token": token},
                  "Secret/sharedinfra-vault-tls": {"ca.crt": open(ca).read()}}))
PY
vault_job="$(job_name "$work/staging.yaml" sa01 vault)"
for run in 1 2; do
  run_job "$work/staging.yaml" "$vault_job" "$work/job-vault-staging" "$work/vault-provisioner.json" "$work/vault-endpoints.json" > "$work/vault-s-$run.log" 2>&1 \
    || { cat "$work/vault-s-$run.log" >&2; fail "staging Vault Job $vault_job with the provisioner token (run $run)"; }
  VAULT_TOKEN="$root_token" vault policy read app-sa01 > "$work/vault-s-state-$run"
done
diff -u "$work/vault-s-state-1" "$work/vault-s-state-2" || fail "the second run of $vault_job changed the policy"
grep -q 'secret/data/sharedinfra/staging/apps/sa01' "$work/vault-s-state-1" || fail "staging's policy app-sa01 does not name secret/data/sharedinfra/staging/apps/sa01"
if VAULT_TOKEN="$provisioner_token" vault policy write escalate - <<<'path "*" { capabilities = ["sudo"] }' >/dev/null 2>&1; then
  fail "the provisioner token wrote a policy outside app-*"
fi
export VAULT_TOKEN="$root_token"
vault kv put secret/sharedinfra/staging/apps/sa01 postgres-password=ci-only >/dev/null
vault kv put secret/sharedinfra/staging/apps/sa02 postgres-password=ci-only >/dev/null
vault kv put secret/sharedinfra/staging/redis redis-password=ci-only >/dev/null
app_token="$(vault token create -policy=app-sa01 -field=token)"
unset VAULT_TOKEN
VAULT_TOKEN="$app_token" vault kv get -field=postgres-password secret/sharedinfra/staging/apps/sa01 >/dev/null || fail "policy app-sa01 cannot read its own key"
for other in secret/sharedinfra/staging/apps/sa02 secret/sharedinfra/staging/redis; do
  if VAULT_TOKEN="$app_token" vault kv get "$other" >/dev/null 2>&1; then fail "policy app-sa01 reads $other"; fi
done
echo "ok   vault staging: Vault Job $vault_job run twice with a token of sharedinfra-app-provisioner (which cannot write other policies); app-sa01 reads secret/sharedinfra/staging/apps/sa01 and not sa02's or Redis's key"
echo "apps: passed"
