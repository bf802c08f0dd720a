#!/usr/bin/env bash
# Every custom resource of every mode of the soma-infra stack validates against the upstream
# CustomResourceDefinitions of external-secrets, cert-manager and trust-manager (pinned in .ci/components.sh,
# downloaded from those projects' Go modules, never committed), and a misspelt field fails.
# The stack is copied with the upstream CRD YAMLs (and trust-manager's Bundle) added to
# schema/crds/: a CRD takes the place of the stack's own JSON schema for its kind.
set -euo pipefail
cd "$(dirname "$0")/.."
somagen="${SOMAGEN:-target/debug/somagen}"
[ -x "$somagen" ] || cargo build --quiet
crds="$(bash .ci/components.sh --dir crds)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cp -r stack.yaml overlays schema templates files smoke "$work/"
cp "$crds"/external-secrets/*.yaml "$crds"/cert-manager/*.yaml "$crds"/trust-manager/*.yaml "$work/schema/crds/"
for mode in $("$somagen" modes --stack "$work"); do
  "$somagen" render --stack "$work" --mode "$mode" >"$work/$mode.yaml" 2>"$work/$mode.err" || {
    cat "$work/$mode.err" >&2
    echo "crds: mode $mode does not validate against the upstream CRDs" >&2
    exit 1
  }
  cmp -s "$work/$mode.yaml" "golden/$mode.yaml" || { echo "crds: $mode renders differently with the upstream CRDs" >&2; exit 1; }
  kinds=$(grep -c '^apiVersion: \(external-secrets.io\|cert-manager.io\|trust.cert-manager.io\)/' "$work/$mode.yaml" || true)
  echo "crds: $mode: $kinds custom resources valid against the external-secrets, cert-manager and trust-manager CRDs"
done

# The check can fail: a misspelt field of an ExternalSecret is refused by the upstream schema.
sed -i 's/secretStoreRef:/secretStoreReff:/' "$work/templates/secrets/_secret.j2"
if "$somagen" render --stack "$work" --mode staging >/dev/null 2>"$work/bad.err"; then
  echo "crds: a misspelt ExternalSecret field was accepted" >&2
  exit 1
fi
grep -q "'secretStoreReff' was unexpected" "$work/bad.err" || { cat "$work/bad.err" >&2; exit 1; }
echo "crds: a misspelt field is refused: $(grep -m1 secretStoreReff "$work/bad.err")"
