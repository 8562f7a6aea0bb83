#!/usr/bin/env bash
# Load and soak over loopback with wrk, against a release build (SQLite job store, as deployed):
#  1. levels: a mixed workload (35% /health/live, 5% /metrics, 5% /health/ready, 25% small sync
#     simulations, 5% async submissions, the rest status polls), with progress streams open, at increasing
#     connection counts; throughput, p50/p95/p99 latency, status codes and socket errors per level;
#  2. limits: a second instance with a rate limit, a 1-job queue and a 2 KiB body limit, hammered: every
#     answer must be 200, 413 or 429 in the documented shapes, never a 5xx or a dropped connection;
#  3. soak: the mixed workload without new submissions (job records live until their TTL, so a submission
#     flood grows memory by design) for SOAK seconds; resident memory and open file descriptors sampled after
#     a warm-up and at the end must not grow past the bounds below.
#   benchmarks/load.sh                    # levels of 10 s, a 10-minute soak
#   benchmarks/load.sh --short            # CI: levels of 3 s, a 30 s soak
#   LEVEL_SECONDS=30 SOAK=3600 benchmarks/load.sh
# Bounds (soak): resident memory grows by at most 64 MiB, open descriptors by at most 16.
set -euo pipefail
cd "$(dirname "$0")/.."
LEVEL_SECONDS=${LEVEL_SECONDS:-10}
SOAK=${SOAK:-600}
if [ "${1:-}" = --short ]; then LEVEL_SECONDS=3; SOAK=30; fi
RSS_BOUND_MIB=64
FD_BOUND=16
OUT=benchmarks/out
mkdir -p "$OUT"
scripts/bootstrap
BIN=${ABM_BIN:-}
if [ -z "$BIN" ]; then
  swift build -c release --product abm >/dev/null
  BIN=.build/release/abm
fi
PORT=${PORT:-18480}
LIMITS_PORT=$((PORT + 1))
W=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "load: FAIL: $*"; tail -n 20 "$W/server.log"; exit 1; }
URL="http://127.0.0.1:$PORT"
BODY="$PWD/examples/abm-small.json"
export BODY
python3 -c "import json;d=json.load(open('$BODY'));d['abm'].pop('seed',None);json.dump(d,open('$W/unseeded.json','w'))"

ABM_HOST=127.0.0.1 ABM_PORT=$PORT ABM_DATA_DIR="$W/data" RATE_LIMIT_ENABLED=false ABM_MAX_QUEUED_JOBS=100000 ABM_MAX_QUEUED_JOBS_PER_CLIENT=0 \
  ABM_LOG_TARGET=file ABM_LOG_FILE="$W/logs/abm.log" "$BIN" serve >"$W/server.log" 2>&1 &
SERVER=$!
PIDS+=($SERVER)
for _ in $(seq 100); do curl -sf "$URL/health/ready" >/dev/null && break; sleep 0.1; done
# Jobs to poll, and progress streams held open on them for the whole run.
JOBS=""
for _ in $(seq 20); do
  id=$(curl -sf -H 'Content-Type: application/json' --data @"$W/unseeded.json" "$URL/api/v2/abm/simulate" | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')
  JOBS="$JOBS,$id"
done
export JOBS=${JOBS#,}
for id in $(echo "$JOBS" | tr , ' ' | cut -d' ' -f1-4); do
  (while true; do curl -s -N --max-time 30 "$URL/api/v2/abm/jobs/$id/stream" >/dev/null; done) &
  PIDS+=($!)
done

: >"$OUT/load.jsonl"
export SUBMIT_PCT=5
for conns in 4 16 64; do
  line=$(wrk -t2 -c$conns -d${LEVEL_SECONDS}s -s benchmarks/mixed.lua "$URL" | tail -n 1)
  echo "{\"case\":\"mixed\",\"connections\":$conns,${line#\{}" | tee -a "$OUT/load.jsonl"
done

# Limits under load, on a second instance.
ABM_HOST=127.0.0.1 ABM_PORT=$LIMITS_PORT ABM_JOB_STORE=memory RATE_LIMIT_ENABLED=true DEFAULT_RATE_LIMIT=200/second \
  ABM_MAX_CONCURRENT_JOBS=1 ABM_MAX_QUEUED_JOBS=1 MAX_REQUEST_SIZE=2048 "$BIN" serve >"$W/limits.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$LIMITS_PORT/health/ready" >/dev/null && break; sleep 0.1; done
python3 - "$W/big.json" <<'PY'
import json, sys
b = [{"bucket": "B%d" % i, "allocation": 100 / 40, "tge_unlock_pct": 5, "cliff_months": 0, "vesting_months": 12} for i in range(40)]
json.dump({"token": {"name": "Big", "total_supply": 1e9, "start_date": "2026-01-01", "horizon_months": 12}, "buckets": b,
           "abm": {"agents_per_cohort": 10}}, open(sys.argv[1], "w"))
PY
cat >"$W/limits.lua" <<'LUA'
local small = assert(io.open(os.getenv("BODY"), "rb")):read("*a")
local big = assert(io.open(os.getenv("BIG"), "rb")):read("*a")
local threads = {}
function setup(thread) threads[#threads + 1] = thread end
function init(args) codes = {} end
local json = { ["Content-Type"] = "application/json" }
function request()
  local r = math.random(3)
  if r == 1 then return wrk.format("POST", "/api/v2/abm/simulate", json, small) end
  if r == 2 then return wrk.format("POST", "/api/v2/abm/simulate-sync", json, big) end
  return wrk.format("GET", "/api/v2/abm/queue/stats")
end
function response(status) codes[status] = (codes[status] or 0) + 1 end
function done(summary)
  local all = {}
  for _, t in ipairs(threads) do for k, v in pairs(t:get("codes")) do all[k] = (all[k] or 0) + v end end
  local parts = {}
  for k, v in pairs(all) do parts[#parts + 1] = string.format('"%d":%d', k, v) end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('{"requests":%d,"socket_errors":%d,"codes":{%s}}\n', summary.requests, errors, table.concat(parts, ",")))
end
LUA
line=$(BIG="$W/big.json" wrk -t2 -c16 -d${LEVEL_SECONDS}s -s "$W/limits.lua" "http://127.0.0.1:$LIMITS_PORT" | tail -n 1)
echo "{\"case\":\"limits\",\"connections\":16,${line#\{}" | tee -a "$OUT/load.jsonl"
# The refusals carry their documented bodies.
r429=$(for _ in $(seq 400); do curl -s -w '\n%{http_code}\n' -H 'Content-Type: application/json' --data @"$BODY" "http://127.0.0.1:$LIMITS_PORT/api/v2/abm/simulate"; done | grep -B1 '^429$' | head -1)
# RateLimited in /openapi.json: {"error": ...} (rate limit) or {"detail": ...} (queue full).
echo "$r429" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert isinstance(d.get("error", d.get("detail")), str), d' || fail "a 429 without its documented body: $r429"
r413=$(curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' --data @"$W/big.json" "http://127.0.0.1:$LIMITS_PORT/api/v2/abm/simulate-sync")
[ "$(echo "$r413" | tail -1)" = 413 ] || fail "an oversized body got $(echo "$r413" | tail -1)"
# RequestTooLarge: {"status", "error_type": "request_too_large", "message"}.
echo "$r413" | head -1 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["error_type"] == "request_too_large" and d["status"] == "error" and d["message"], d' || fail "a 413 without its documented body"
echo "limits: 429 body $(echo "$r429" | cut -c1-120); 413 body $(echo "$r413" | head -1 | cut -c1-120)"

# Soak: no new submissions.
export SUBMIT_PCT=0
rss() { awk '/VmRSS/ { print $2 }' /proc/$SERVER/status; }
fds() { ls /proc/$SERVER/fd | wc -l; }
wrk -t2 -c8 -d10s -s benchmarks/mixed.lua "$URL" >/dev/null
rss0=$(rss); fd0=$(fds)
line=$(wrk -t2 -c8 -d${SOAK}s -s benchmarks/mixed.lua "$URL" | tail -n 1)
rss1=$(rss); fd1=$(fds)
echo "{\"case\":\"soak\",\"connections\":8,\"seconds\":$SOAK,\"rss_start_kib\":$rss0,\"rss_end_kib\":$rss1,\"fds_start\":$fd0,\"fds_end\":$fd1,${line#\{}" | tee -a "$OUT/load.jsonl"
kill -0 $SERVER 2>/dev/null || fail "the server died"

python3 - "$OUT/load.jsonl" "$RSS_BOUND_MIB" "$FD_BOUND" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rss_bound, fd_bound = int(sys.argv[2]), int(sys.argv[3])
bad = []
print()
print("| case | connections | requests/s | p50 ms | p95 ms | p99 ms | status codes | socket errors |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    codes = ", ".join(f"{k}: {v}" for k, v in sorted(r["codes"].items()))
    print(f"| {r['case']} | {r['connections']} | {r.get('rps', 0):.0f} | {r.get('p50_ms', 0):.3f} | {r.get('p95_ms', 0):.3f} | {r.get('p99_ms', 0):.3f} | {codes} | {r['socket_errors']} |")
    if any(k.startswith("5") for k in r["codes"]): bad.append(f"{r['case']}: 5xx answers {r['codes']}")
    if r["socket_errors"]: bad.append(f"{r['case']}: {r['socket_errors']} socket errors")
    allowed = {"200", "413", "429"} if r["case"] == "limits" else {"200"}
    if set(r["codes"]) - allowed: bad.append(f"{r['case']}: unexpected codes {r['codes']}")
soak = rows[-1]
grow = (soak["rss_end_kib"] - soak["rss_start_kib"]) / 1024
fds = soak["fds_end"] - soak["fds_start"]
print()
print(f"soak {soak['seconds']} s: resident memory {soak['rss_start_kib']/1024:.1f} -> {soak['rss_end_kib']/1024:.1f} MiB ({grow:+.1f}, bound +{rss_bound}), "
      f"open fds {soak['fds_start']} -> {soak['fds_end']} ({fds:+d}, bound +{fd_bound})")
if grow > rss_bound: bad.append(f"resident memory grew {grow:.1f} MiB")
if fds > fd_bound: bad.append(f"open descriptors grew by {fds}")
if bad:
    print("load: FAIL: " + "; ".join(bad)); sys.exit(1)
print("load: PASS")
PY
