#!/usr/bin/env python3
"""Parse the rendered Vault configuration of every mode with python-hcl2 and check it against
STACK.md §1.3 / §2.

raft modes (ConfigMap sharedinfra-vault-config, key vault.hcl):
  - it parses as HCL2;
  - ui and disable_mlock (dropping ALL capabilities removes IPC_LOCK);
  - listener "tcp" on [::]:8200 / [::]:8201 with tls_cert_file/tls_key_file under /vault/tls
    (or tls_disable when TLS is off) and telemetry.unauthenticated_metrics_access;
  - storage "raft" at /vault/data with exactly one retry_join per StatefulSet replica, each at
    https://sharedinfra-vault-<i>.sharedinfra-vault-internal.soma-infra.svc.cluster.local:8200
    with leader_ca_cert_file /vault/tls/ca.crt;
  - telemetry prometheus_retention_time = "30s", disable_hostname = true;
  - the StatefulSet runs args ["server"] and mounts the ConfigMap at /vault/config.
dev modes: args ["server", "-dev"], no sharedinfra-vault-config, one replica.

usage: validate-vault.py [golden-dir]      (needs python-hcl2 and PyYAML: the .ci venv)
"""
import os
import sys

import hcl2
import yaml

MODES = ["dev", "test", "staging", "prod-lite", "prod"]
INTERNAL = "sharedinfra-vault-internal.soma-infra.svc.cluster.local"
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
    return cond


def find(items, kind, name):
    return next((o for o in items if o.get("kind") == kind and o["metadata"]["name"] == name), None)


def blocks(value):
    """python-hcl2 returns repeated blocks as lists; single ones sometimes as dicts."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def norm(v):
    """Make both hcl2 flavours look alike: python-hcl2 (attributes as values) and checkov's
    bc-python-hcl2 fork, which installs the same `hcl2` module and wraps every attribute in a
    one-element list."""
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    if isinstance(v, list):
        if len(v) == 1 and not isinstance(v[0], (dict, list)):
            return norm(v[0])
        return [norm(x) for x in v]
    return v


def unquote(v):
    # python-hcl2 >= 5 keeps the quotes of string literals in some versions.
    if isinstance(v, str) and len(v) >= 2 and v[0] == v[-1] == '"':
        return v[1:-1]
    return v


def labelled(blocks_list, label):
    for b in blocks_list:
        for k, v in b.items():
            if unquote(k) == label:
                return v
    return None


def check_mode(golden, mode):
    items = [d for d in yaml.safe_load_all(open(os.path.join(golden, f"{mode}.yaml"))) if d]
    sts = find(items, "StatefulSet", "sharedinfra-vault")
    if not check(sts is not None, f"{mode}: StatefulSet sharedinfra-vault missing"):
        return
    vault = next(c for c in sts["spec"]["template"]["spec"]["containers"] if c["name"] == "vault")
    cm = find(items, "ConfigMap", "sharedinfra-vault-config")
    replicas = sts["spec"].get("replicas", 1)
    if vault["args"] == ["server", "-dev"]:
        check(cm is None, f"{mode}: dev mode must not render sharedinfra-vault-config")
        check(replicas == 1, f"{mode}: dev mode runs one server")
        print(f"ok   {mode}: dev server (in memory, HTTP)")
        return
    check(vault["args"] == ["server"], f"{mode}: raft args must be [server], got {vault['args']}")
    if not check(cm is not None, f"{mode}: raft mode needs ConfigMap sharedinfra-vault-config"):
        return
    mounts = {m["mountPath"]: m["name"] for m in vault.get("volumeMounts", [])}
    check(mounts.get("/vault/config") == "config", f"{mode}: config not mounted at /vault/config")
    check(mounts.get("/vault/data") == "data", f"{mode}: raft data not mounted at /vault/data")
    text = cm["data"]["vault.hcl"]
    try:
        conf = norm(hcl2.loads(text))
    except Exception as e:  # noqa: BLE001 - report any parser error as a failure
        check(False, f"{mode}: vault.hcl does not parse: {e}")
        return
    check(conf.get("ui") is True, f"{mode}: ui = true")
    check(conf.get("disable_mlock") is True, f"{mode}: disable_mlock = true")

    tcp = labelled(blocks(conf.get("listener")), "tcp")
    if check(tcp is not None, f"{mode}: listener \"tcp\" missing"):
        check(unquote(tcp.get("address")) == "[::]:8200", f"{mode}: listener address")
        check(unquote(tcp.get("cluster_address")) == "[::]:8201", f"{mode}: listener cluster_address")
        tls = tcp.get("tls_disable") is not True
        if tls:
            check(unquote(tcp.get("tls_cert_file")) == "/vault/tls/tls.crt", f"{mode}: tls_cert_file")
            check(unquote(tcp.get("tls_key_file")) == "/vault/tls/tls.key", f"{mode}: tls_key_file")
            check(mounts.get("/vault/tls") == "tls", f"{mode}: TLS Secret not mounted at /vault/tls")
            check(find(items, "Certificate", "sharedinfra-vault-tls") is not None, f"{mode}: Certificate sharedinfra-vault-tls")
        tele = blocks(tcp.get("telemetry"))
        check(tele and tele[0].get("unauthenticated_metrics_access") is True,
              f"{mode}: listener telemetry unauthenticated_metrics_access")

    raft = labelled(blocks(conf.get("storage")), "raft")
    if check(raft is not None, f"{mode}: storage \"raft\" missing"):
        check(unquote(raft.get("path")) == "/vault/data", f"{mode}: raft path")
        joins = blocks(raft.get("retry_join"))
        check(len(joins) == replicas, f"{mode}: {len(joins)} retry_join blocks for {replicas} replicas")
        scheme = "https" if tls else "http"
        for i, j in enumerate(joins):
            want = f"{scheme}://sharedinfra-vault-{i}.{INTERNAL}:8200"
            check(unquote(j.get("leader_api_addr")) == want, f"{mode}: retry_join {i} leader_api_addr {j.get('leader_api_addr')} != {want}")
            if tls:
                check(unquote(j.get("leader_ca_cert_file")) == "/vault/tls/ca.crt", f"{mode}: retry_join {i} leader_ca_cert_file")

    tele = blocks(conf.get("telemetry"))
    if check(len(tele) == 1, f"{mode}: one top-level telemetry block"):
        check(unquote(tele[0].get("prometheus_retention_time")) == "30s", f"{mode}: prometheus_retention_time")
        check(tele[0].get("disable_hostname") is True, f"{mode}: disable_hostname")
    if not [f for f in failures if f.startswith(f"{mode}:")]:
        print(f"ok   {mode}: vault.hcl parses; listener, raft with {replicas} retry_join, telemetry")


def main():
    golden = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "golden")
    for mode in MODES:
        check_mode(golden, mode)
    for f in failures:
        print(f"FAIL {f}", file=sys.stderr)
    if failures:
        sys.exit(1)
    print("vault: all modes passed")


if __name__ == "__main__":
    main()
