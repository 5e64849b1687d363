#!/usr/bin/env bash
# Property-based API fuzz: schemathesis (from PyPI, pinned) against the example server's OpenAPI
# document (examples/server, a fresh SQLite file with the demo region). Loopback only: the
# server binds 127.0.0.1:0.
#
# Fails (exit non-zero, last line `api-fuzz: FAIL ...`) on any 5xx, any status the document
# does not declare for the operation, any body that does not match its declared schema, a wrong
# content type, a method served that the document does not list, schema-invalid input accepted,
# a request taking longer than 10 s, a server panic or exit, and on reaching the time limit.
# Passes with `api-fuzz: PASS ...` as the last line.
#
# Three passes, all with a fixed seed and one worker (the same requests every run):
#   1. every operation but /auth/logout, as the demo operator;
#   2. the GET operations as a self-registered account whose email is unconfirmed (R-A5:
#      it may log in but not act), so the 403 `account.email_unconfirmed` paths are fuzzed too;
#   3. /auth/logout alone, last, on a session of its own: it ends the session it is sent with,
#      so fuzzed in pass 1 it would log the fuzzer out and turn the rest of the run into 401s.
#
# Bounds (environment): KADRY_FUZZ_EXAMPLES cases per operation and phase (default 20; about a
# minute for the three passes on 2 cores), KADRY_FUZZ_SECONDS for all passes together (default
# 300; the build before them is not counted), KADRY_FUZZ_SEED (default 20251124).
set -euo pipefail
cd "$(dirname "$0")/.."

examples=${KADRY_FUZZ_EXAMPLES:-20}
limit=${KADRY_FUZZ_SECONDS:-300}
seed=${KADRY_FUZZ_SEED:-20251124}
venv=target/schemathesis-venv
# Hypothesis keeps its caches here instead of `.hypothesis/` in the work tree.
export HYPOTHESIS_STORAGE_DIRECTORY="$PWD/target/hypothesis"

work=""
pid=""
verdict=""
finish() {
  local rc=$?
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  [ -n "$work" ] && rm -rf "$work"
  if [ "$rc" -eq 0 ]; then
    echo "api-fuzz: PASS (seed $seed, $examples examples per operation, ${SECONDS}s)"
  else
    echo "api-fuzz: FAIL${verdict:+: $verdict} (seed $seed, $examples examples per operation, ${SECONDS}s)"
  fi
  exit "$rc"
}
trap finish EXIT

if [ ! -x "$venv/bin/st" ] || ! "$venv/bin/st" --version 2>/dev/null | grep -q '4\.32\.5'; then
  echo "installing schemathesis 4.32.5 into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet schemathesis==4.32.5
fi

verdict="the server does not build"
cargo build --quiet --all-features --example server   # the features CI tests with: no second build
verdict=""

work=$(mktemp -d)
./target/debug/examples/server --bind 127.0.0.1:0 --storage "sqlite:$work/fuzz.db" >"$work/out" 2>"$work/err" &
pid=$!

base=""
for _ in $(seq 1 600); do
  base=$(sed -n 's/^kadry listening on //p' "$work/out" | head -n1)
  [ -n "$base" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/err"; verdict="the server exited at start"; exit 1; }
  sleep 0.2
done
[ -n "$base" ] || { cat "$work/err"; verdict="the server did not start"; exit 1; }
echo "server at $base"

# Every session is opened now: pass 1 fuzzes /auth/login, and its failed logins soon make the
# login rate limit answer 429 to this address (documented, and correct).
json_field() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
login() {
  curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$2\"}" | json_field '["token"]'
}
verdict="could not set up the sessions"
operator=$(login operator@demo.kadry.ru kadry-demo-2025)
logout_session=$(login operator@demo.kadry.ru kadry-demo-2025)
org=$(curl -sf "$base/api/v1/directory" | json_field '["orgs"][0]["id"]')
curl -sf -o /dev/null -X POST "$base/api/v1/auth/register" -H 'content-type: application/json' \
  -d "{\"full_name\":\"Фаззер Неподтверждённый\",\"email\":\"unconfirmed@fuzz.kadry.ru\",\"password\":\"fuzz-password-2025\",\"org\":\"$org\",\"position\":\"teacher\",\"consent\":true}"
unconfirmed=$(login unconfirmed@fuzz.kadry.ru fuzz-password-2025)
verdict=""

# Every check but positive_data_acceptance (the rules refuse some schema-valid input by design:
# empty names, future dates, a role without its scope, …; those are 409/422, never 5xx) and the
# stateful resource checks (use_after_free, ensure_resource_availability,
# object_level_authorization), whose guesses at links between operations do not fit this API.
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance
checks+=,response_schema_conformance,negative_data_rejection,missing_required_header,unsupported_method
checks+=,allow_header_conformance,ignored_auth

deadline=$((SECONDS + limit))
failed=()
fuzz() {
  local name=$1 token=$2 left=$((deadline - SECONDS)) status=0
  shift 2
  if [ "$left" -le 0 ]; then
    failed+=("the ${limit}s limit was reached before $name")
    return
  fi
  echo
  echo "==> $name"
  timeout "$left" "$venv/bin/st" run "$base/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks "$checks" \
    --max-examples "$examples" --seed "$seed" --workers 1 \
    --generation-database none --request-timeout 10 \
    "$@" || status=$?
  if [ "$status" -eq 124 ]; then
    failed+=("$name stopped at the ${limit}s limit")
  elif [ "$status" -ne 0 ]; then
    failed+=("$name failed (schemathesis exit $status)")
  fi
}

fuzz "pass 1 (every operation but /auth/logout, as the operator)" "$operator" --exclude-path /api/v1/auth/logout
fuzz "pass 2 (GET operations, as an unconfirmed account)" "$unconfirmed" --include-method GET
fuzz "pass 3 (/auth/logout, on its own session)" "$logout_session" --include-path /api/v1/auth/logout

if grep -q 'panicked' "$work/err"; then
  echo "the server panicked:"
  grep -A5 'panicked' "$work/err"
  failed+=("the server panicked")
fi
if ! kill -0 "$pid" 2>/dev/null; then
  tail -n 20 "$work/err"
  failed+=("the server exited")
fi
if [ "${#failed[@]}" -gt 0 ]; then
  verdict=$(printf '%s; ' "${failed[@]}")
  verdict=${verdict%; }
  exit 1
fi
