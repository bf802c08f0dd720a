#!/usr/bin/env bash
# The OpenTelemetry Collector configuration of every mode that renders the collector, checked by
# the real collector (`otelcol validate`, v0.120.0 built by .ci/components.sh from the published
# modules with the components the stack configures): the golden files as rendered, then staging
# with every backend on (Jaeger, a log backend), and a misspelt exporter, which must be refused.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.ci/venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
somagen="${SOMAGEN:-target/debug/somagen}"
[ -x "$somagen" ] || cargo build --quiet
otelcol="$(bash .ci/components.sh --dir otelcol)/otelcol"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
checked=0
validate() { # label stream
  "$PYTHON" .ci/extract-data.py "$2" configmap sharedinfra-otel-collector config.yaml >"$work/config.yaml"
  if ! "$otelcol" validate --config="file:$work/config.yaml" >"$work/out" 2>&1; then
    cat "$work/out" >&2; echo "FAIL: $1: otelcol validate refused the rendered configuration" >&2; exit 1
  fi
  echo "otelcol: $1: $(grep -c . "$work/config.yaml") lines, exporters $(sed -n '/^exporters:/,/^[a-z]/p' "$work/config.yaml" | grep -E '^  [a-z]' | tr -d ' :' | tr '\n' ' ')valid"
  checked=$((checked + 1))
}
for mode in dev test staging prod-lite prod; do
  "$PYTHON" .ci/extract-data.py "golden/$mode.yaml" exists ConfigMap sharedinfra-otel-collector || continue
  validate "$mode" "golden/$mode.yaml"
done
"$somagen" render --mode staging --set telemetry.jaeger.enabled=true,telemetry.loki.enabled=true -o json >"$work/all.json"
validate "staging + jaeger + loki" "$work/all.json"
grep -q 'endpoint: http://sharedinfra-loki.soma-infra.svc.cluster.local:3100/otlp' "$work/config.yaml" ||
  { echo "FAIL: with Loki on, the collector does not send logs to it" >&2; exit 1; }
sed 's/^  otlp\/traces:/  otlpp\/traces:/' "$work/config.yaml" >"$work/bad.yaml"
if "$otelcol" validate --config="file:$work/bad.yaml" >"$work/out" 2>&1; then
  echo "FAIL: otelcol validate accepted a misspelt exporter" >&2; exit 1
fi
echo "otelcol: a misspelt exporter is refused: $(grep -o 'unknown type: "otlpp"' "$work/out" | head -n1)"
[ "$checked" -ge 4 ] || { echo "FAIL: expected the collector in staging, prod-lite and prod" >&2; exit 1; }
