#!/usr/bin/env bash
# Validate the rendered Prometheus configuration and alert rules of every mode with promtool.
#
#   .ci/validate-prometheus.sh            # renders with $SOMAGEN (default target/debug/somagen)
#   .ci/validate-prometheus.sh --golden   # reads golden/<mode>.yaml instead
#
# promtool is the upstream build of Prometheus 2.47.2, the version the stack deploys, with
# Kubernetes service discovery (.ci/components.sh builds and caches it). For every mode:
#   promtool check config --syntax-only  on the rendered prometheus.yml exactly as rendered
#   promtool check config                on the same text with /etc/prometheus/ moved into a
#                                        temporary directory, so the rule and TLS files it
#                                        names are checked too
#   promtool check rules                 (sharedinfra.rules.yaml)
# and for prod with the optional components on; then `promtool test rules` with
# tests/promtool/alerts.test.yaml on the prod rules, alerts-dev.test.yaml on the dev rules and
# alerts-optional.test.yaml on the optional ones, and a coverage check: every alert that any of
# them renders must fire in a test and stay silent in one.
set -euo pipefail
cd "$(dirname "$0")/.."

source_kind=render
[[ "${1:-}" == "--golden" ]] && source_kind=golden
SOMAGEN="${SOMAGEN:-target/debug/somagen}"
# The CI venv (.ci/run) when present, else the system python3; either needs PyYAML.
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .ci/venv/bin/python ]]; then PYTHON=.ci/venv/bin/python; else PYTHON=python3; fi
fi
modes=(dev test staging prod-lite prod)

promtool="$(.ci/components.sh --dir prometheus)/promtool"
want_version="$(.ci/components.sh --version prometheus)"
want_version="${want_version#v}"
grep -q "^promtool, version $want_version " <<<"$("$promtool" --version 2>&1)" ||
    { echo "prometheus: $promtool is not promtool $want_version" >&2; exit 2; }
promtool() { "$promtool" "$@"; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
check() { # name, command...
    local name="$1"; shift
    if "$@" >"$work/log" 2>&1; then
        passed=$((passed + 1)); echo "ok   $name"
    else
        failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$work/log"
    fi
}

# "optional" is prod with the optional components that no mode turns on (Loki, Jaeger), so
# their rules are checked and tested too; it is always rendered (golden files lack it).
for mode in "${modes[@]}" optional; do
    if [[ "$mode" == optional ]]; then
        src="$work/$mode.json"
        "$SOMAGEN" render --mode prod --set telemetry.loki.enabled=true,telemetry.jaeger.enabled=true -o json >"$src"
    elif [[ "$source_kind" == golden ]]; then
        src="golden/$mode.yaml"
    else
        src="$work/$mode.json"
        "$SOMAGEN" render --mode "$mode" -o json >"$src"
    fi
    "$PYTHON" .ci/extract-prometheus.py "$src" "$work/$mode" >/dev/null
    etc="$work/$mode/etc/prometheus"
    check "$mode: promtool check config --syntax-only (as rendered)" promtool check config --syntax-only "$etc/prometheus.rendered.yml"
    check "$mode: promtool check config" promtool check config "$etc/prometheus.yml"
    check "$mode: promtool check rules" promtool check rules "$etc"/rules/*.yaml
done

for pair in prod:alerts.test.yaml dev:alerts-dev.test.yaml optional:alerts-optional.test.yaml; do
    mode="${pair%%:*}"; test_file="${pair#*:}"
    dir="$work/unit-$mode"
    mkdir -p "$dir"
    cp "tests/promtool/$test_file" "$dir/"
    cp "$work/$mode/etc/prometheus/rules/sharedinfra.rules.yaml" "$dir/"
    check "$mode: promtool test rules $test_file" promtool test rules "$dir/$test_file"
done

# Coverage: every alert rendered in any mode has a firing case and a silent case.
check "every alert fires in a test and stays silent in one" "$PYTHON" - "$work" "${modes[@]}" optional <<'PY'
import glob, sys, yaml
work, modes = sys.argv[1], sys.argv[2:]
alerts = set()
for mode in modes:
    for path in glob.glob(f"{work}/{mode}/etc/prometheus/rules/*.yaml"):
        for group in yaml.safe_load(open(path))["groups"]:
            alerts |= {r["alert"] for r in group["rules"] if "alert" in r}
fires, silent = set(), set()
for test_file in glob.glob("tests/promtool/*.test.yaml"):
    for case in yaml.safe_load(open(test_file))["tests"]:
        for t in case.get("alert_rule_test", []):
            (fires if t.get("exp_alerts") else silent).add(t["alertname"])
missing = sorted((alerts - fires) | (alerts - silent))
print(f"{len(alerts)} alerts rendered: {', '.join(sorted(alerts))}")
if missing:
    sys.exit(f"alerts without both a firing and a silent test: {missing}")
PY

# The lifecycle API stays off: a real Prometheus (Debian package) started with the rendered
# args of prod (config, storage and listen address moved to a temp dir and a loopback port)
# must refuse POST /-/quit and /-/reload (403) while serving queries: 9090 is open to apps.
lifecycle_off() {
    local dir="$work/lifecycle" port pid status=0
    mkdir -p "$dir/data"
    printf 'global:\n  scrape_interval: 1m\n' > "$dir/prometheus.yml"
    port="$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    if [[ "$source_kind" == golden ]]; then src="golden/prod.yaml"; else src="$work/prod.json"; fi
    mapfile -t args < <("$PYTHON" .ci/extract-data.py "$src" args StatefulSet sharedinfra-prometheus prometheus \
        | sed -e "s#^--config.file=.*#--config.file=$dir/prometheus.yml#" -e "s#^--storage.tsdb.path=.*#--storage.tsdb.path=$dir/data#" \
              -e "s#^--web.listen-address=.*#--web.listen-address=127.0.0.1:$port#")
    printf '%s\n' "${args[@]}"
    prometheus "${args[@]}" > "$dir/prometheus.log" 2>&1 &
    pid=$!
    "$PYTHON" - "$port" <<'PY' || status=1
import sys, time, urllib.request, urllib.error
base = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(100):
    try:
        if urllib.request.urlopen(base + "/-/ready", timeout=1).status == 200:
            break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("Prometheus did not become ready")
for path in ("/-/quit", "/-/reload"):
    try:
        code = urllib.request.urlopen(urllib.request.Request(base + path, method="POST"), timeout=2).status
    except urllib.error.HTTPError as e:
        code = e.code
    if code != 403:
        sys.exit(f"POST {path} answered {code}: the lifecycle API is on")
    print(f"POST {path}: 403")
q = urllib.request.urlopen(base + "/api/v1/query?query=up", timeout=2)
print(f"GET /api/v1/query: {q.status}")
PY
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
    [[ "$status" == 0 ]] || { tail -n 5 "$dir/prometheus.log"; return 1; }
}
check "prod args: POST /-/quit and /-/reload refused (403), queries served" lifecycle_off

echo "prometheus: $passed passed, $failed failed"
[[ "$failed" == 0 ]]
