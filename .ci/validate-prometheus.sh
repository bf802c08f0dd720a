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
# then `promtool test rules` with tests/promtool/alerts.test.yaml on the prod rules and
# alerts-dev.test.yaml on the dev rules, and a coverage check: every alert that any mode
# renders must fire in a test and stay silent in one.
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
"$promtool" --version 2>&1 | grep -q "^promtool, version $want_version " ||
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

for mode in "${modes[@]}"; do
    if [[ "$source_kind" == golden ]]; then
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

for pair in prod:alerts.test.yaml dev:alerts-dev.test.yaml; do
    mode="${pair%%:*}"; test_file="${pair#*:}"
    dir="$work/unit-$mode"
    mkdir -p "$dir"
    cp "tests/promtool/$test_file" "$dir/"
    cp "$work/$mode/etc/prometheus/rules/sharedinfra.rules.yaml" "$dir/"
    check "$mode: promtool test rules $test_file" promtool test rules "$dir/$test_file"
done

# Coverage: every alert rendered in any mode has a firing case and a silent case.
check "every alert fires in a test and stays silent in one" "$PYTHON" - "$work" tests/promtool/alerts.test.yaml "${modes[@]}" <<'PY'
import glob, sys, yaml
work, test_file, modes = sys.argv[1], sys.argv[2], sys.argv[3:]
alerts = set()
for mode in modes:
    for path in glob.glob(f"{work}/{mode}/etc/prometheus/rules/*.yaml"):
        for group in yaml.safe_load(open(path))["groups"]:
            alerts |= {r["alert"] for r in group["rules"] if "alert" in r}
fires, silent = set(), set()
for case in yaml.safe_load(open(test_file))["tests"]:
    for t in case.get("alert_rule_test", []):
        (fires if t.get("exp_alerts") else silent).add(t["alertname"])
missing = sorted((alerts - fires) | (alerts - silent))
print(f"{len(alerts)} alerts rendered: {', '.join(sorted(alerts))}")
if missing:
    sys.exit(f"alerts without both a firing and a silent test: {missing}")
PY

echo "prometheus: $passed passed, $failed failed"
[[ "$failed" == 0 ]]
