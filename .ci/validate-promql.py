#!/usr/bin/env python3
"""Validate the Grafana dashboards and every PromQL expression the stack ships.

usage: .ci/validate-promql.py [--golden]

Renders every mode with $SOMAGEN (default target/debug/somagen; `--golden` reads
golden/<mode>.yaml instead) and checks:

1. files/grafana/dashboards/*.json are valid JSON dashboards: unique uid per dashboard,
   unique panel ids within each, every panel on the provisioned datasource uid
   "prometheus", every target with a refId and an expr;
2. ConfigMap sharedinfra-grafana-dashboards carries exactly those files, byte for byte,
   in every mode that renders Grafana (and no mode without Grafana renders it);
3. every PromQL expression (dashboard targets and the rendered alert rules of every mode)
   parses with promql-parser (PyPI, the Rust parser of the GreptimeDB project);
4. every metric those expressions select is one the exporters of STACK.md §5 really emit
   (the catalogue below, per exporter and version), so a misspelt name cannot pass.

Needs: pip install promql-parser pyyaml. Prints one line per check and
"promql: N passed, M failed"; exits 1 on any failure.
"""
import glob
import json
import os
import re
import subprocess
import sys

import promql_parser
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = ["dev", "test", "staging", "prod-lite", "prod"]
# Every mode as shipped, and the optional components that no mode turns on, so their rules
# are checked too.
VARIANTS = [(mode, ()) for mode in MODES] + [
    ("staging", ("telemetry.jaeger.enabled=true", "telemetry.loki.enabled=true")),
]
DASHBOARDS = os.path.join(ROOT, "files", "grafana", "dashboards")

# Metric names per source, as the pinned versions expose them (STACK.md §1.1, §5).
KNOWN_METRICS = {
    # prometheus itself (v2.47) and synthetic series
    "prometheus": {"up", "ALERTS", "prometheus_config_last_reload_successful"},
    # postgres_exporter v0.15.0: pg_up, default collectors (database, locks, replication,
    # settings, stat_database)
    "postgres_exporter": {
        "pg_up", "pg_replication_lag_seconds", "pg_replication_is_replica",
        "pg_stat_database_numbackends", "pg_settings_max_connections",
        "pg_stat_database_xact_commit", "pg_stat_database_xact_rollback",
        "pg_stat_database_blks_hit", "pg_stat_database_blks_read",
        "pg_stat_database_deadlocks", "pg_database_size_bytes", "pg_locks_count",
    },
    # redis_exporter v1.58.0
    "redis_exporter": {
        "redis_up", "redis_instance_info", "redis_connected_clients",
        "redis_memory_used_bytes", "redis_memory_max_bytes",
        "redis_commands_processed_total", "redis_keyspace_hits_total",
        "redis_keyspace_misses_total", "redis_connected_slaves", "redis_master_link_up",
        "redis_evicted_keys_total",
    },
    # kafka_exporter v1.7.0
    "kafka_exporter": {
        "kafka_brokers", "kafka_topic_partitions", "kafka_topic_partition_current_offset",
        "kafka_topic_partition_in_sync_replica", "kafka_topic_partition_replicas",
        "kafka_topic_partition_under_replicated_partition", "kafka_consumergroup_lag",
    },
    # OPA 0.57 diagnostic listener: http histogram (labels code, handler, method) + Go runtime
    "opa": {
        "http_request_duration_seconds_bucket", "http_request_duration_seconds_count",
        "go_memstats_heap_alloc_bytes",
    },
    # Vault 1.21 telemetry, disable_hostname = true (summaries in milliseconds)
    "vault": {
        "vault_core_unsealed", "vault_core_active", "vault_core_handle_request",
        "vault_expire_num_leases", "vault_audit_log_request_failure",
    },
    # OpenTelemetry Collector 0.120 internal telemetry (Prometheus exporter, _total counters)
    "otelcol": {
        "otelcol_exporter_send_failed_spans_total", "otelcol_exporter_send_failed_log_records_total",
        "otelcol_receiver_refused_spans_total", "otelcol_receiver_refused_log_records_total",
        "otelcol_exporter_sent_spans_total", "otelcol_receiver_accepted_spans_total",
    },
    # Loki 3.x (HTTP server instrumentation, distributor limits)
    "loki": {
        "loki_request_duration_seconds_count", "loki_discarded_samples_total",
    },
    # etcd v3.5
    "etcd": {
        "etcd_server_has_leader", "etcd_server_leader_changes_seen_total",
        "etcd_mvcc_db_total_size_in_bytes",
    },
}
ALL_KNOWN = set().union(*KNOWN_METRICS.values())

passed = 0
failed = 0


def check(name, problems):
    global passed, failed
    if problems:
        failed += 1
        print(f"FAIL {name}")
        for p in problems:
            print(f"     {p}")
    else:
        passed += 1
        print(f"ok   {name}")


def render(mode, golden, sets=()):
    if golden and not sets:
        with open(os.path.join(ROOT, "golden", f"{mode}.yaml"), encoding="utf-8") as f:
            return [d for d in yaml.safe_load_all(f) if d]
    somagen = os.environ.get("SOMAGEN", os.path.join(ROOT, "target", "debug", "somagen"))
    flags = [arg for s in sets for arg in ("--set", s)]
    out = subprocess.run([somagen, "render", "--mode", mode, "-o", "json", *flags], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    doc = json.loads(out)
    return doc["items"] if isinstance(doc, dict) else doc


def metric_names(expr):
    """Names of every vector selector in a parsed expression: (name or regex, is_regex)."""
    names = []

    def walk(node):
        if isinstance(node, promql_parser.VectorSelector):
            name, regex = node.name, False
            if not name:
                for m in node.matchers.matchers:
                    if m.name == "__name__":
                        name = m.value
                        regex = str(m.op) == "MatchOp.Re"
            names.append((name, regex))
            return
        for attr in ("expr", "lhs", "rhs", "vector_selector", "param"):
            child = getattr(node, attr, None)
            if child is not None and not isinstance(child, (str, int, float)):
                walk(child)
        for arg in getattr(node, "args", None) or []:
            walk(arg)

    walk(expr)
    return names


def check_expr(where, expr, problems):
    try:
        ast = promql_parser.parse(expr)
    except Exception as err:  # the parser raises ValueError with the reason
        problems.append(f"{where}: does not parse: {err}: {expr}")
        return
    for name, regex in metric_names(ast):
        # A name regex must match a known metric for each of its alternatives.
        known = (
            all(any(re.fullmatch(alt, k) for k in ALL_KNOWN) for alt in alternatives(name))
            if regex
            else name in ALL_KNOWN
        )
        if not known:
            problems.append(f"{where}: metric {name!r} is not in the exporter catalogue: {expr}")


def alternatives(regex):
    """`a_(x|y)_b` -> [`a_x_b`, `a_y_b`]: one group of alternatives at most, as the rules use."""
    m = re.search(r"\(([^()]*)\)", regex)
    if not m:
        return [regex]
    return [regex[: m.start()] + alt + regex[m.end():] for alt in m.group(1).split("|")]


def panels_of(dashboard):
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # collapsed rows


def main():
    golden = "--golden" in sys.argv[1:]
    files = sorted(glob.glob(os.path.join(DASHBOARDS, "*.json")))
    raw = {}
    dashboards = {}
    problems = []
    for path in files:
        name = os.path.basename(path)
        raw[name] = open(path, encoding="utf-8").read()
        try:
            dashboards[name] = json.loads(raw[name])
        except json.JSONDecodeError as err:
            problems.append(f"{name}: invalid JSON: {err}")
    check(f"{len(files)} dashboards are valid JSON", problems or ([] if files else ["no dashboards"]))

    problems = []
    uids = {}
    exprs = []
    for name, d in dashboards.items():
        for key in ("uid", "title", "panels", "schemaVersion"):
            if key not in d:
                problems.append(f"{name}: no {key}")
        if d.get("uid") in uids:
            problems.append(f"{name}: uid {d.get('uid')} also in {uids[d.get('uid')]}")
        uids[d.get("uid")] = name
        ids = [p.get("id") for p in panels_of(d)]
        dupes = sorted({i for i in ids if ids.count(i) > 1}, key=str)
        if dupes or None in ids:
            problems.append(f"{name}: panel ids not unique/present: {dupes or 'missing id'}")
        for p in panels_of(d):
            if p.get("type") == "row":
                continue
            if p.get("datasource", {}).get("uid") != "prometheus":
                problems.append(f"{name}: panel {p.get('id')} not on datasource uid prometheus")
            targets = p.get("targets") or []
            if not targets:
                problems.append(f"{name}: panel {p.get('id')} has no targets")
            refs = [t.get("refId") for t in targets]
            if len(set(refs)) != len(refs) or None in refs:
                problems.append(f"{name}: panel {p.get('id')} refIds {refs}")
            for t in targets:
                if not t.get("expr"):
                    problems.append(f"{name}: panel {p.get('id')} target {t.get('refId')} has no expr")
                else:
                    exprs.append((f"{name} panel {p.get('id')} {t.get('refId')}", t["expr"]))
    check("dashboards: unique uids and panel ids, datasource prometheus, targets complete", problems)

    problems = []
    for where, expr in exprs:
        check_expr(where, expr, problems)
    check(f"{len(exprs)} dashboard expressions parse and use known metrics", problems)

    for mode, sets in VARIANTS:
        objects = render(mode, golden, sets)
        if sets:
            mode = f"{mode} with {','.join(sets)}"
        cms = {o["metadata"]["name"]: o.get("data", {}) for o in objects if o.get("kind") == "ConfigMap"}
        grafana_on = any(o.get("kind") == "Deployment" and o["metadata"]["name"] == "sharedinfra-grafana"
                         for o in objects)
        problems = []
        shipped = cms.get("sharedinfra-grafana-dashboards")
        if grafana_on:
            if shipped is None:
                problems.append("Grafana renders without ConfigMap sharedinfra-grafana-dashboards")
            else:
                if sorted(shipped) != sorted(raw):
                    problems.append(f"keys {sorted(shipped)} != files {sorted(raw)}")
                for key, text in shipped.items():
                    if raw.get(key) != text:
                        problems.append(f"{key}: rendered bytes differ from files/grafana/dashboards/{key}")
        elif shipped is not None:
            problems.append("dashboards rendered although Grafana is off")
        check(f"{mode}: dashboards ConfigMap ships the files verbatim" if grafana_on
              else f"{mode}: Grafana off, no dashboards", problems)

        problems = []
        rules = cms.get("sharedinfra-prometheus-rules", {})
        count = 0
        for key, text in rules.items():
            for group in yaml.safe_load(text).get("groups", []):
                for rule in group.get("rules", []):
                    count += 1
                    check_expr(f"{mode} {key} {rule.get('alert') or rule.get('record')}", rule["expr"], problems)
        if rules and not count:
            problems.append("rules ConfigMap without rules")
        check(f"{mode}: {count} alert rule expressions parse and use known metrics", problems)

    print(f"promql: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
