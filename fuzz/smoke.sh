#!/usr/bin/env bash
# Coverage-guided smoke run of every fuzz target (libFuzzer via cargo-fuzz,
# nightly), a few seconds each, seeded with fuzz/corpus/<target>/.
#
#   fuzz/smoke.sh                 # every target, 5 s each
#   FUZZ_SECONDS=60 fuzz/smoke.sh tcp dns_message
#
# Without nightly or cargo-fuzz it prints why and exits 0 (the stable test
# tests/fuzz_corpora.rs still runs the targets over their corpora), except
# when CI=true and nightly is present: then a missing cargo-fuzz is
# installed, and failing to install or build is an error. A crash or a
# failed round trip always exits 1; the input is left in
# fuzz/artifacts/<target>/ and printed as hex. New inputs libFuzzer finds go
# to a scratch directory, never into the committed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-5}"
ci="${CI:-false}"

skip() { # reason
  if [ "$ci" = true ] && [ "${have_nightly:-false}" = true ]; then
    echo "fuzz smoke: FAILED: $1" >&2
    exit 1
  fi
  echo "fuzz smoke: skipped: $1"
  exit 0
}

have_nightly=false
if cargo +nightly --version >/dev/null 2>&1; then
  have_nightly=true
else
  skip "no nightly toolchain (cargo-fuzz needs one: rustup toolchain install nightly)"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  if [ "$ci" = true ]; then
    echo "--- installing cargo-fuzz"
    cargo install cargo-fuzz --locked || skip "cargo install cargo-fuzz failed"
  else
    skip "cargo-fuzz is not installed (cargo install cargo-fuzz)"
  fi
fi

# Separate from the stable builds: a nightly, sanitizer-instrumented tree.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vnet-target}/fuzz"

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir fuzz)
fi

echo "--- building ${#targets[@]} fuzz targets"
cargo +nightly fuzz build --fuzz-dir fuzz || skip "cargo fuzz build failed"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
failed=()
for t in "${targets[@]}"; do
  echo "--- fuzzing $t for ${seconds}s"
  mkdir -p "$scratch/$t" "fuzz/artifacts/$t"
  if ! cargo +nightly fuzz run --fuzz-dir fuzz "$t" "$scratch/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=0 \
    >"$scratch/$t.log" 2>&1; then
    failed+=("$t")
    grep -E "panicked|ERROR|SUMMARY|Test unit written" "$scratch/$t.log" | head -8 || true
    for a in "fuzz/artifacts/$t"/*; do
      [ -f "$a" ] && echo "  input $a: $(od -An -tx1 -v "$a" | tr -d ' \n')"
    done
  else
    grep -E "^Done [0-9]+ runs|#[0-9]+\s+DONE" "$scratch/$t.log" | tail -1 || true
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz smoke: FAILED: ${failed[*]} (inputs in fuzz/artifacts/; add them to fuzz/corpus/<target>/)" >&2
  exit 1
fi
echo "fuzz smoke: ${#targets[@]} targets, ${seconds}s each, no crash"
