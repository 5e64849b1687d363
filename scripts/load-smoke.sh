#!/usr/bin/env bash
# Load smoke test (docs/load.md): builds the examples in release, generates a small region, and
# runs the load test (examples/load) at a small size, loopback only:
#   1. against the example server on SQLite,
#   2. directly against PostgreSQL (a fresh schema of $KADRY_TEST_DATABASE_URL),
#   3. the SIGKILL mode: the server is killed mid-load and restarted on the same SQLite file;
#   4. Yugra (--region yugra: applications in the open window) directly against PostgreSQL;
#   5. Tatarstan (--region tatarstan: the cycle at stage 6, applications with quota numbers,
#      refusals and reassignment, forming) against the example server on SQLite, and directly
#      against PostgreSQL.
# Each run checks every invariant against the database at the end and exits non-zero on a
# violation, a lost success, a 5xx or an internal error; this script stops at the first failure.
# Throughput and latency are printed, not judged (docs/performance.md "Load test" has figures).
#
# Bounds (environment): KADRY_LOAD_WORKERS (default 2000), KADRY_LOAD_CLIENTS (32),
# KADRY_LOAD_SECONDS (15), KADRY_LOAD_REGION_SECONDS (10: the Yugra and Tatarstan runs),
# KADRY_LOAD_SEED (20251124).
set -euo pipefail
cd "$(dirname "$0")/.."

workers=${KADRY_LOAD_WORKERS:-2000}
clients=${KADRY_LOAD_CLIENTS:-32}
seconds=${KADRY_LOAD_SECONDS:-15}
region_seconds=${KADRY_LOAD_REGION_SECONDS:-10}
seed=${KADRY_LOAD_SEED:-20251124}
url=${KADRY_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
bin=${CARGO_TARGET_DIR:-target}/release/examples

work=$(mktemp -d)
finish() {
  local rc=$?
  rm -rf "$work"
  if [ "$rc" -eq 0 ]; then echo "load-smoke: PASS (${SECONDS}s)"; else echo "load-smoke: FAIL (${SECONDS}s)"; fi
  exit "$rc"
}
trap finish EXIT

echo "--- build (release, all features, examples)"
cargo build --release --all-features --examples

echo "--- generate: $workers workers into a SQLite file"
"$bin/generate" --workers "$workers" --seed "$seed" --storage "sqlite:$work/generated.db" --passwords

common=(--workers "$workers" --seed "$seed" --clients "$clients" --seconds "$seconds")

echo "--- load: the example server on SQLite"
"$bin/load" --target server --server-bin "$bin/server" --storage "sqlite:$work/server.db" "${common[@]}"

echo "--- load: directly against PostgreSQL (schema kadry_load_smoke)"
"$bin/load" --target "store:postgres:$url" --schema kadry_load_smoke "${common[@]}"

echo "--- load: SIGKILL the server mid-load, restart on the same SQLite file"
"$bin/load" --target server --server-bin "$bin/server" --storage "sqlite:$work/kill.db" \
  --kill-after "$(( seconds / 2 ))" "${common[@]}"

regional=(--workers "$workers" --seed "$seed" --clients "$clients" --seconds "$region_seconds")

echo "--- load: Yugra, directly against PostgreSQL (schema kadry_load_smoke_yugra)"
"$bin/load" --region yugra --target "store:postgres:$url" --schema kadry_load_smoke_yugra "${regional[@]}"

echo "--- load: Tatarstan, the example server on SQLite"
"$bin/load" --region tatarstan --target server --server-bin "$bin/server" --storage "sqlite:$work/tatarstan.db" \
  "${regional[@]}"

echo "--- load: Tatarstan, directly against PostgreSQL (schema kadry_load_smoke_tatarstan)"
"$bin/load" --region tatarstan --target "store:postgres:$url" --schema kadry_load_smoke_tatarstan "${regional[@]}"
