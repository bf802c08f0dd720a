#!/usr/bin/env bash
# Vault in raft mode as prod renders it, run by the real Vault (.ci/components.sh vault), with
# Kubernetes auth against the real API server (.ci/cluster/control-plane.sh):
#   1. `vault server` starts from prod's rendered vault.hcl (only addresses and paths moved to
#      loopback and a temporary directory; TLS with certificates made here), and is
#      initialised and unsealed;
#   2. the Kubernetes auth method reviews tokens with the API server; docs/recovery.md's
#      set-up block (the backup policy and role) runs verbatim;
#   3. the snapshot script of CronJob sharedinfra-vault-backup runs as the pod's uid/gid with a
#      real ServiceAccount token of sharedinfra-vault-backup, twice: two snapshots, pruning kept
#      them both (retention in days);
#   4. a secret written after the snapshot is gone once docs/recovery.md's restore block
#      (`vault operator raft snapshot restore -force`) has run, and the one before is back;
#   5. a token of another ServiceAccount is refused by the backup role.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x .ci/venv/bin/python ] && echo .ci/venv/bin/python || echo python3 )}"
somagen="${SOMAGEN:-target/debug/somagen}"
[ -x "$somagen" ] || cargo build --quiet
[ "$(id -u)" = 0 ] || { echo "FAIL: run as root: the snapshot script runs as the pod's uid (setpriv)" >&2; exit 2; }
vault_dir="$(.ci/components.sh --dir vault)"
.ci/components.sh vault | sed 's/^/vault-raft: component /'
vault="$vault_dir/vault"
export PATH="$vault_dir:$PATH"  # docs/recovery.md's blocks call `vault`

# shellcheck source=.ci/cluster/control-plane.sh
source .ci/cluster/control-plane.sh
control_plane_start
work="$CP_WORK/vault"; mkdir -p "$work"; chmod 755 "$CP_WORK" "$work"
fail() { echo "vault-raft: FAIL: $*" >&2; exit 1; }

"$somagen" render --mode prod > "$work/prod.yaml"

# --- 1. the rendered configuration, on loopback ------------------------------------------------
port="$(cp_free_port)"; cluster_port="$(cp_free_port)"
tls="$work/tls"; mkdir -p "$tls"
(
  cd "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 -subj "/CN=vault-ci-ca" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout tls.key -out tls.csr -subj "/CN=sharedinfra-vault" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' > tls.ext
  openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile tls.ext -out tls.crt 2>/dev/null
)
"$PYTHON" .ci/extract-data.py "$work/prod.yaml" configmap sharedinfra-vault-config vault.hcl \
  | sed -e "s#\[::\]:8200#127.0.0.1:$port#" -e "s#\[::\]:8201#127.0.0.1:$cluster_port#" \
        -e "s#/vault/tls/#$tls/#g" -e "s#\"/vault/data\"#\"$work/data\"#" > "$work/vault.hcl"
grep -q 'storage "raft"' "$work/vault.hcl" || fail "prod's vault.hcl has no raft storage"
mkdir -p "$work/data"
export VAULT_ADDR="https://127.0.0.1:$port" VAULT_CACERT="$tls/ca.crt"
VAULT_API_ADDR="$VAULT_ADDR" VAULT_CLUSTER_ADDR="https://127.0.0.1:$cluster_port" \
  "$vault" server -config="$work/vault.hcl" > "$CP_WORK/vault.log" 2>&1 &
CP_PIDS+=($!)
sealed() { "$vault" status >/dev/null 2>&1; [ $? = 2 ]; }
cp_wait_for 60 "vault server (sealed, on $VAULT_ADDR)" sealed
"$vault" operator init -key-shares=1 -key-threshold=1 -format=json > "$work/init.json"
unseal_key="$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["unseal_keys_b64"][0])' "$work/init.json")"
root_token="$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["root_token"])' "$work/init.json")"
"$vault" operator unseal "$unseal_key" >/dev/null
export VAULT_TOKEN="$root_token"
active() { "$vault" read -field=leader_address sys/leader >/dev/null && [ "$("$vault" read -field=is_self sys/leader)" = true ]; }
cp_wait_for 60 "vault: raft leader elected" active
echo "vault-raft: $("$vault" version | cut -d' ' -f1-2) serves prod's vault.hcl (raft, TLS) on $VAULT_ADDR: initialised, unsealed, leader"

# --- 2. Kubernetes auth against the API server, and docs/recovery.md's set-up -------------------
server="$("$kubectl" config view --raw -o jsonpath='{.clusters[0].cluster.server}')"
"$kubectl" create namespace soma-infra >/dev/null
"$kubectl" -n soma-infra create serviceaccount sharedinfra-vault-backup >/dev/null
"$kubectl" -n soma-infra create serviceaccount vault-token-reviewer >/dev/null
"$kubectl" -n soma-infra create serviceaccount someone-else >/dev/null
"$kubectl" create clusterrolebinding vault-token-reviewer --clusterrole=system:auth-delegator \
  --serviceaccount=soma-infra:vault-token-reviewer >/dev/null
"$vault" auth enable kubernetes >/dev/null
"$vault" write auth/kubernetes/config kubernetes_host="$server" kubernetes_ca_cert=@"$CP_WORK/pki/ca.crt" \
  token_reviewer_jwt="$("$kubectl" -n soma-infra create token vault-token-reviewer --duration=1h)" >/dev/null
doc_block() { # NAME: the fenced block after `<!-- recovery: NAME -->` in docs/recovery.md
  awk -v name="$1" '$0 == "<!-- recovery: " name " -->" { armed = 1; next }
    armed && /^```/ { if (inside) exit; inside = 1; next } inside { print }' docs/recovery.md
}
doc_block vault-setup > "$work/setup.sh"
[ -s "$work/setup.sh" ] || fail "docs/recovery.md has no vault-setup block"
bash -euo pipefail "$work/setup.sh" > "$work/setup.log" 2>&1 || { cat "$work/setup.log" >&2; fail "docs/recovery.md's vault-setup block"; }
"$vault" secrets enable -path=secret kv-v2 >/dev/null
"$vault" kv put secret/sharedinfra/prod/probe value=before-snapshot >/dev/null

# --- 3. the CronJob's snapshot script, as the pod runs it --------------------------------------
root="$work/pod"
"$PYTHON" - "$work/prod.yaml" "$root" "$tls/ca.crt" "$VAULT_ADDR" > "$work/snapshot.sh" <<'PY'
import shlex, sys, yaml
stream, root, ca, addr = sys.argv[1:5]
(cron,) = [d for d in yaml.safe_load_all(open(stream)) if d and d["kind"] == "CronJob" and d["metadata"]["name"] == "sharedinfra-vault-backup"]
pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
(c,) = pod["containers"]
shell, flag, script = c["command"]
assert (shell, flag) == ("sh", "-c"), c["command"]
mounts = sorted((m["mountPath"] for m in c["volumeMounts"]), key=len, reverse=True)
def place(text):
    # Through placeholders, so that ROOT (itself below /tmp) is not moved again by /tmp.
    for i, path in enumerate(mounts):
        text = text.replace(path, f"\0{i}\0")
    for i, path in enumerate(mounts):
        text = text.replace(f"\0{i}\0", root + path)
    return text
print("#!/bin/sh")
for e in c["env"]:
    value = {"VAULT_ADDR": addr}.get(e["name"], place(e["value"]))
    print(f"export {e['name']}={shlex.quote(value)}")
print(place(script))
sec = {**pod["securityContext"], **c["securityContext"]}
print(f"# uid={sec['runAsUser']} gid={sec['runAsGroup']} fsGroup={pod['securityContext'].get('fsGroup', '')}")
PY
ids="$(tail -n 1 "$work/snapshot.sh")"
uid="$(sed -n 's/.*uid=\([0-9]*\).*/\1/p' <<<"$ids")"; gid="$(sed -n 's/.* gid=\([0-9]*\).*/\1/p' <<<"$ids")"
mkdir -p "$root/backup" "$root/tmp" "$root/var/run/secrets/vault-backup" "$root/vault/tls"
cp "$tls/ca.crt" "$root/vault/tls/ca.crt"
chown -R "$uid:$gid" "$root/backup" "$root/tmp"
chmod 755 "$work/snapshot.sh" "$root" "$root/var" "$root/var/run" "$root/var/run/secrets" "$root/vault" "$root/vault/tls"
token_file() { # service account: a fresh projected-style token, readable by the pod's group
  "$kubectl" -n soma-infra create token "$1" --duration=10m > "$root/var/run/secrets/vault-backup/token"
  chgrp -R "$gid" "$root/var/run/secrets/vault-backup"; chmod 0750 "$root/var/run/secrets/vault-backup"
  chmod 0440 "$root/var/run/secrets/vault-backup/token" "$root/vault/tls/ca.crt"; chgrp "$gid" "$root/vault/tls/ca.crt"
}
# The pod's user cannot enter the cache in root's home: a copy of the binary.
mkdir -p "$work/bin"; cp "$vault" "$work/bin/"; chmod -R a+rX "$work/bin"
snapshot() {
  (cd "$root/tmp" && setpriv --reuid="$uid" --regid="$gid" --groups="$gid" -- \
    env -i PATH="$work/bin:/usr/bin:/bin" "$work/snapshot.sh")
}
for run in 1 2; do
  token_file sharedinfra-vault-backup
  snapshot > "$work/snapshot-$run.log" 2>&1 || { cat "$work/snapshot-$run.log" >&2; fail "the snapshot script (run $run)"; }
  sleep 1  # snapshots are named by the second
done
count="$(find "$root/backup" -name 'vault-*.snap' -size +0 | wc -l)"
[ "$count" = 2 ] || { ls -l "$root/backup" >&2; fail "expected 2 snapshots after 2 runs, found $count"; }
echo "vault-raft: the CronJob's script ran twice as uid $uid with a ServiceAccount token: $(tail -n 1 "$work/snapshot-2.log")"

# --- 4. restore ---------------------------------------------------------------------------------
"$vault" kv put secret/sharedinfra/prod/probe value=after-snapshot >/dev/null
"$vault" kv put secret/sharedinfra/prod/late value=written-after >/dev/null
SNAPSHOT="$(find "$root/backup" -name 'vault-*.snap' | sort | tail -n 1)"
export SNAPSHOT
doc_block vault-restore > "$work/restore.sh"
[ -s "$work/restore.sh" ] || fail "docs/recovery.md has no vault-restore block"
bash -euo pipefail "$work/restore.sh" > "$work/restore.log" 2>&1 || { cat "$work/restore.log" >&2; fail "docs/recovery.md's vault-restore block"; }
cp_wait_for 60 "vault: leader after the restore" active
probe="$("$vault" kv get -field=value secret/sharedinfra/prod/probe)"
[ "$probe" = before-snapshot ] || fail "after the restore, probe is '$probe', not the snapshot's 'before-snapshot'"
if "$vault" kv get secret/sharedinfra/prod/late >/dev/null 2>&1; then fail "a secret written after the snapshot survived the restore"; fi
echo "vault-raft: docs/recovery.md's restore brought back the snapshot: probe=before-snapshot, the later secret is gone"

# --- 5. only the backup ServiceAccount may log in as the backup role ----------------------------
token_file someone-else
if snapshot > "$work/snapshot-other.log" 2>&1; then fail "the backup role admitted ServiceAccount someone-else"; fi
grep -q 'service account name not authorized' "$work/snapshot-other.log" ||
  { cat "$work/snapshot-other.log" >&2; fail "the other ServiceAccount was refused for another reason"; }
echo "vault-raft: a token of ServiceAccount someone-else is refused (service account name not authorized)"
echo "vault-raft: passed"
