#!/usr/bin/env bash
# Fuzzes the running service from its own description: schemathesis (PyPI, pinned by scripts/python-tools)
# generates requests for every operation of /openapi.json of a release build on loopback, in every phase
# (examples, coverage, fuzzing, stateful), and checks every response. It passes with zero server errors,
# zero crashes and zero responses outside the documented schemas, status codes, content types and headers.
#   scripts/fuzz-api.sh                         # CI: 25 examples per operation, fixed seed
#   FUZZ_EXAMPLES=500 FUZZ_SEED=7 scripts/fuzz-api.sh   # the long mode
# Three checks are left out, each because the API's contract differs from what it assumes:
#   positive_data_acceptance  cross-field rules (allocations summing to 100, calendar dates) cannot be
#                             written in OpenAPI, and the original's 400 for "not found or not cancellable"
#                             is kept (docs/compatibility.md);
#   negative_data_rejection   the API coerces like the original's pydantic models ("5" for 5, unknown keys
#                             ignored), so some schema-violating requests are rightly accepted;
#   use_after_free            DELETE cancels a job, it does not remove it: its status stays readable.
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLES=${FUZZ_EXAMPLES:-25}
SEED=${FUZZ_SEED:-20261127}
PORT=${FUZZ_PORT:-18660}
OUT=benchmarks/out
mkdir -p "$OUT"
scripts/python-tools
BIN=${ABM_BIN:-}
if [ -z "$BIN" ]; then
  swift build -c release --product abm >/dev/null
  BIN=.build/release/abm
fi
LOG="$OUT/fuzz-server.log"
ABM_HOST=127.0.0.1 ABM_PORT=$PORT ABM_JOB_STORE=memory ABM_DATA_DIR="$OUT/fuzz-data" RATE_LIMIT_ENABLED=false \
  ABM_MAX_QUEUED_JOBS=100000 ABM_MAX_QUEUED_JOBS_PER_CLIENT=0 "$BIN" serve >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.1; done
status=0
.tools/venv/bin/schemathesis run "http://127.0.0.1:$PORT/openapi.json" \
  --checks all --exclude-checks positive_data_acceptance,negative_data_rejection,use_after_free \
  --max-examples "$EXAMPLES" --seed "$SEED" --workers 2 --max-response-time 30 \
  --report junit --report-junit-path "$OUT/fuzz-junit.xml" >"$OUT/fuzz.txt" 2>&1 || status=$?
sed -n '/SUMMARY/,$p' "$OUT/fuzz.txt"
if ! kill -0 $SERVER 2>/dev/null; then
  echo "fuzz-api: the server died during the run:"
  grep -a -A5 "Fatal error\|crashed" "$LOG" | head -20
  exit 1
fi
if grep -aq '"status":5[0-9][0-9]' "$LOG"; then
  echo "fuzz-api: the server answered 5xx:"
  grep -a '"status":5[0-9][0-9]' "$LOG" | head -5
  exit 1
fi
if [ $status -ne 0 ]; then
  echo "fuzz-api: schemathesis found failures (full report: $OUT/fuzz.txt)"
  # Failures and runtime errors (network errors, timeouts, schema errors) each have their own section.
  sed -n '/= \(FAILURES\|ERRORS\) =/,/= SUMMARY =/p' "$OUT/fuzz.txt" | head -120
  exit $status
fi
echo "fuzz-api: $(grep -a -c '"msg":"request completed"' "$LOG") requests, no 5xx, no crash, every response as documented"
