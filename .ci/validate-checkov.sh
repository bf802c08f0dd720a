#!/usr/bin/env bash
# checkov --framework kubernetes on golden/{staging,prod-lite,prod}.yaml, skipping only the
# checks listed (each with its reason) in .ci/checkov-skips.txt. Any other failed check fails.
# usage: .ci/validate-checkov.sh [golden-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
golden="${1:-golden}"
CHECKOV="${CHECKOV:-$( [ -x .ci/venv/bin/checkov ] && echo .ci/venv/bin/checkov || echo checkov )}"
skips="$(grep -o '^CKV_[A-Z0-9_]*' .ci/checkov-skips.txt | paste -sd, -)"
status=0
for mode in staging prod-lite prod; do
  out="$("$CHECKOV" --framework kubernetes --skip-download --quiet --compact \
        --skip-check "$skips" -f "$golden/$mode.yaml" 2>&1)" || status=1
  summary="$(printf '%s\n' "$out" | grep -m1 'Passed checks' || true)"
  failed="$(printf '%s\n' "$out" | grep -c '^Check: ' || true)"
  if [ "$failed" != 0 ]; then
    echo "FAIL $mode: $summary"
    printf '%s\n' "$out" | grep -A1 '^Check: ' | grep -v '^--$'
    status=1
  else
    echo "ok   $mode: $summary (skipped: $skips)"
  fi
done
exit "$status"
