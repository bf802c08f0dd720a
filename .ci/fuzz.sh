#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers of untrusted input (fuzz/, README "Fuzzing"): build
# every cargo-fuzz target, then run each for a bounded time on top of its seed corpus
# (fuzz/corpus/<target>/) and of the corpus earlier runs grew (kept in the cache).
#
# Fails on a crash (a panic, including a broken round-trip property), a hang (-timeout) or
# memory past -rss_limit_mb, after running every target; the failing input is kept under
# fuzz/artifacts/<target>/ and printed in base64. Fails loudly, never skips, when the nightly
# toolchain or cargo-fuzz cannot be installed.
#
# Environment: FUZZ_SECONDS (per target, default 50), FUZZ_TARGETS (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
SECONDS_PER_TARGET=${FUZZ_SECONDS:-50}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/somagen-ci

die() {
  echo "fuzz: ERROR: $*" >&2
  exit 1
}

# The nightly toolchain (libFuzzer's instrumentation needs it).
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: installing the nightly toolchain"
  rustup toolchain install nightly --profile minimal ||
    die "the nightly Rust toolchain is not installed and cannot be installed; cargo fuzz needs it"
fi
NIGHTLY=$(rustup run nightly rustc --version) || die "the nightly toolchain does not run"
echo "fuzz: $NIGHTLY"

# cargo-fuzz, built once per version into the cache, outside the checkout.
TOOL=$CACHE/cargo-fuzz-$CARGO_FUZZ_VERSION
if [ ! -x "$TOOL/bin/cargo-fuzz" ]; then
  echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION into $TOOL"
  rm -rf "$TOOL.tmp"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --root "$TOOL.tmp" --quiet ||
    die "cannot install cargo-fuzz $CARGO_FUZZ_VERSION from crates.io"
  rm -rf "$TOOL" && mv "$TOOL.tmp" "$TOOL"
fi
export PATH=$TOOL/bin:$PATH
echo "fuzz: $(cargo fuzz --version), sha256 $(sha256sum "$TOOL/bin/cargo-fuzz" | cut -d' ' -f1)"

# Builds are cached per nightly, so a warm run rebuilds only what changed in the checkout.
TARGET_DIR=$CACHE/fuzz-target-$(echo "$NIGHTLY" | tr -c 'A-Za-z0-9.\n-' '_')
# No sanitizer: somagen and its parsers are safe Rust, so AddressSanitizer would halve the
# executions without finding more; panics, overflows (debug assertions are on), stack
# overflows, hangs and memory growth are all caught without it.
FUZZ=(cargo +nightly fuzz)
FLAGS=(--sanitizer none --target-dir "$TARGET_DIR")

mapfile -t TARGETS < <("${FUZZ[@]}" list)
[ "${#TARGETS[@]}" -gt 0 ] || die "cargo fuzz lists no targets"
if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a TARGETS <<<"$FUZZ_TARGETS"
fi

echo "fuzz: building ${TARGETS[*]}"
start=$SECONDS
"${FUZZ[@]}" build "${FLAGS[@]}" || die "the fuzz targets do not build"
echo "fuzz: built in $((SECONDS - start)) s"

failed=()
for target in "${TARGETS[@]}"; do
  corpus=$CACHE/fuzz-corpus/$target
  mkdir -p "$corpus"
  seeds=()
  [ -d "fuzz/corpus/$target" ] && seeds=("fuzz/corpus/$target")
  dict=fuzz/dict/yaml.dict
  [ "$target" = set_flag ] && dict=fuzz/dict/set.dict
  log=$(mktemp)
  echo "== fuzz: $target for ${SECONDS_PER_TARGET} s"
  status=0
  "${FUZZ[@]}" run "${FLAGS[@]}" "$target" "$corpus" "${seeds[@]}" -- \
    -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 -max_len=8192 \
    -dict="$dict" -print_final_stats=1 >"$log" 2>&1 || status=$?
  units=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n1 || true)
  echo "fuzz: $target: ${units:-?} executions; corpus $(find "$corpus" -type f | wc -l) files; ${done_line:-no DONE line}"
  if [ "$status" -ne 0 ]; then
    echo "fuzz: FAILED: $target (exit $status):" >&2
    # The panic (its message holds the value and the YAML text, cut to fit a log), then
    # libFuzzer's verdict and where it kept the input.
    grep -A 12 -E 'panicked at' "$log" | grep -v -E '^ +([0-9]+: |at )' | cut -c 1-400 >&2 || true
    grep -E 'ERROR: libFuzzer|SUMMARY|Test unit written|^Base64|Slowest unit|out-of-memory|timeout' "$log" | cut -c 1-400 >&2 || true
    failed+=("$target")
  elif [ "$(find "$corpus" -type f | wc -l)" -gt 1000 ]; then
    # Keep the cached corpus to the inputs that add coverage, so it does not grow run after run.
    "${FUZZ[@]}" cmin "${FLAGS[@]}" "$target" "$corpus" -- -rss_limit_mb=2048 -timeout=10 \
      >"$log" 2>&1 || { tail -n 20 "$log" >&2; die "cannot minimize the corpus of $target"; }
    echo "fuzz: $target: corpus minimized to $(find "$corpus" -type f | wc -l) files"
  fi
  rm -f "$log"
done

if [ "${#failed[@]}" -gt 0 ]; then
  die "${failed[*]} failed: reproduce with cargo +nightly fuzz run --sanitizer none <target> fuzz/artifacts/<target>/<file>, then add the input as a unit test"
fi
echo "fuzz: all targets ran without a failure"
