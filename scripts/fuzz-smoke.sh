#!/usr/bin/env bash
# Fuzz smoke (cargo-fuzz, libFuzzer): builds the targets of fuzz/ and runs each for a bounded
# time from its committed seed corpus, copied to a temporary folder (CI never grows the
# committed corpus). See docs/fuzzing.md.
#
#   import_csv      the staff-list CSV import: arbitrary bytes, parsed and imported
#   scenario_parse  the scenario parser (and short scenarios run on the memory store)
#   api_json        the example server's JSON bodies through its router, in process
#
# Fails (exit non-zero, last line `fuzz-smoke: FAIL ...`) on any crash: a panic, a refusal
# without a catalogue code, a 5xx, an input slower than the per-input timeout, or memory beyond
# the limit. The crashing input is kept in fuzz/artifacts/<target>/ (git-ignored): replay it with
# `cargo +nightly fuzz run -O --debug-assertions --sanitizer none --codegen-units 16 <target> <file>`.
#
# Needs the nightly toolchain and cargo-fuzz; installs cargo-fuzz from crates.io if missing
# (and says so).
#
# Bounds (environment): KADRY_CARGO_FUZZ_SECONDS per target (default 60; named apart from
# KADRY_FUZZ_SECONDS, which is scripts/api-fuzz.sh's total), KADRY_CARGO_FUZZ_TIMEOUT seconds
# per input (default 10), KADRY_CARGO_FUZZ_TARGET_DIR (the build's folder, default fuzz/target).
# Arguments: the targets to run (default: all three).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${KADRY_CARGO_FUZZ_SECONDS:-60}
timeout=${KADRY_CARGO_FUZZ_TIMEOUT:-10}
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(import_csv scenario_parse api_json)
# Optimised, with debug assertions (overflow checks) on: as strict as a debug build, far faster.
# No sanitizer: kadry forbids unsafe code, and AddressSanitizer (cargo-fuzz's default) made the
# targets 2.5 to 6 times slower here for little; 16 codegen units (cargo-fuzz's default is 1)
# to shorten the cold build. Use the same flags locally to share the build.
build_flags=(-O --debug-assertions --sanitizer none --codegen-units 16)
# A cold build is most of the step's time: a CI that keeps a folder between runs can point
# KADRY_CARGO_FUZZ_TARGET_DIR at it (default fuzz/target, inside the clone).
if [ -n "${KADRY_CARGO_FUZZ_TARGET_DIR:-}" ]; then
  build_flags+=(--target-dir "$KADRY_CARGO_FUZZ_TARGET_DIR")
fi

# api_json: one region for the whole smoke (60 s stay under 500 MB). A fresh region costs about a
# second of CPU, which a loaded machine can stretch past the per-input timeout.
export KADRY_FUZZ_INPUTS_PER_REGION=${KADRY_FUZZ_INPUTS_PER_REGION:-0}

work=""
verdict=""
finish() {
  local rc=$?
  [ -n "$work" ] && rm -rf "$work"
  if [ "$rc" -eq 0 ]; then
    echo "fuzz-smoke: PASS (${targets[*]}, ${seconds}s each, ${SECONDS}s in all)"
  else
    echo "fuzz-smoke: FAIL${verdict:+: $verdict} (${SECONDS}s)"
  fi
  exit "$rc"
}
trap finish EXIT

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "the nightly toolchain is missing: installing it (rustup toolchain install nightly --profile minimal)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is missing: installing it from crates.io (cargo install cargo-fuzz --locked)"
  cargo install cargo-fuzz --locked
fi
cargo +nightly fuzz --version

verdict="the fuzz targets do not build"
start=$SECONDS
cargo +nightly fuzz build "${build_flags[@]}"
echo "built in $((SECONDS - start))s"
verdict=""

work=$(mktemp -d)
failed=()
for t in "${targets[@]}"; do
  echo
  echo "==> $t (${seconds}s)"
  mkdir -p "$work/$t"
  cp fuzz/corpus/"$t"/* "$work/$t/"
  status=0
  # libFuzzer's progress goes to a log; the summary (or the crash) is shown below.
  cargo +nightly fuzz run "${build_flags[@]}" "$t" "$work/$t" -- \
    -max_total_time="$seconds" -timeout="$timeout" -print_final_stats=1 -print_funcs=0 \
    >"$work/$t.log" 2>&1 || status=$?
  grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::' "$work/$t.log" || true
  if [ "$status" -ne 0 ]; then
    grep -m1 -A12 'panicked at\|ERROR: libFuzzer' "$work/$t.log" || true
    tail -n 25 "$work/$t.log"
    failed+=("$t (exit $status; the input is in fuzz/artifacts/$t/)")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  verdict=$(printf '%s; ' "${failed[@]}")
  verdict=${verdict%; }
  exit 1
fi
