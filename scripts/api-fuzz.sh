#!/usr/bin/env bash
# Property-based API fuzz: schemathesis (from PyPI, pinned) against the example server's OpenAPI
# document, logged in as the demo operator. Passes when no response is a 5xx and every response
# conforms to the document. Bounded: KADRY_FUZZ_EXAMPLES cases per operation (default 20) and
# KADRY_FUZZ_SECONDS overall (default 600). Loopback only: the server binds 127.0.0.1:0.
set -euo pipefail
cd "$(dirname "$0")/.."

examples=${KADRY_FUZZ_EXAMPLES:-20}
limit=${KADRY_FUZZ_SECONDS:-600}
venv=target/schemathesis-venv
if [ ! -x "$venv/bin/st" ]; then
  echo "installing schemathesis 4.32.5 into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet schemathesis==4.32.5
fi

cargo build --quiet --example server
work=$(mktemp -d)
./target/debug/examples/server --bind 127.0.0.1:0 --storage "sqlite:$work/fuzz.db" >"$work/out" 2>"$work/err" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

base=""
for _ in $(seq 1 600); do
  base=$(sed -n 's/^kadry listening on //p' "$work/out" | head -n1)
  [ -n "$base" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/err"; echo "the server exited"; exit 1; }
  sleep 0.2
done
[ -n "$base" ] || { cat "$work/err"; echo "the server did not start"; exit 1; }
echo "server at $base"

token=$(curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"operator@demo.kadry.ru","password":"kadry-demo-2025"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

status=0
timeout "$limit" "$venv/bin/st" run "$base/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "$examples" --seed 20251124 --workers 2 \
  --exclude-path-regex '/auth/(logout|reset)$' || status=$?
if grep -q 'panicked' "$work/err"; then
  echo "the server panicked:"; grep -A5 'panicked' "$work/err"; status=1
fi
if [ "$status" -eq 124 ]; then echo "stopped at the ${limit}s limit"; fi
exit "$status"
