#!/usr/bin/env bash
# HTTP benchmark: a release build of `abm serve` on loopback, loaded by wrk from the same 2-core machine
# (so client and server share the CPUs; compare runs on the same machine, not absolute numbers).
#   benchmarks/http.sh                 # 10 s per case
#   DURATION=30s benchmarks/http.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
OUT=benchmarks/out
mkdir -p "$OUT"
scripts/bootstrap
swift build -c release --product abm >/dev/null
PORT=${PORT:-18471}
export REPORT="$PWD/benchmarks/report.lua"
RATE_LIMIT_ENABLED=false ABM_JOB_STORE=memory ABM_MAX_QUEUED_JOBS=1000000 LOG_LEVEL=${LOG_LEVEL:-INFO} \
  .build/release/abm serve --port "$PORT" 2>"$OUT/http-server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/api/v1/health/live" >/dev/null && break; sleep 0.1; done

run() { # name, connections, extra wrk args...
  local name=$1 conns=$2; shift 2
  local line
  line=$(wrk -t"$(( conns < 2 ? conns : 2 ))" -c"$conns" -d"$DURATION" --latency "$@" | tail -n 1)
  echo "{\"case\":\"$name\",\"connections\":$conns,${line#\{}" | tee -a "$OUT/http.jsonl"
}
: > "$OUT/http.jsonl"
run "GET /api/v1/health/live" 32 -s "$REPORT" "http://127.0.0.1:$PORT/api/v1/health/live"
BODY="$PWD/examples/abm-small.json" run "POST /api/v2/abm/simulate-sync (small)" 8 -s benchmarks/post.lua "http://127.0.0.1:$PORT/api/v2/abm/simulate-sync"
BODY="$PWD/examples/abm-small.json" run "POST /api/v2/abm/simulate-sync (small), 1 connection" 1 -s benchmarks/post.lua "http://127.0.0.1:$PORT/api/v2/abm/simulate-sync"
# Async: unseeded submissions (never cached), then status polls of one job.
python3 -c "import json;d=json.load(open('examples/abm-small.json'));d['abm'].pop('seed');json.dump(d,open('$OUT/unseeded.json','w'))"
BODY="$PWD/$OUT/unseeded.json" run "POST /api/v2/abm/simulate (submit)" 8 -s benchmarks/post.lua "http://127.0.0.1:$PORT/api/v2/abm/simulate"
JOB=$(curl -s -X POST -H 'content-type: application/json' --data @examples/abm-small.json "http://127.0.0.1:$PORT/api/v2/abm/simulate" | python3 -c 'import sys,json;print(json.load(sys.stdin)["job_id"])')
run "GET /api/v2/abm/jobs/{id}/status" 32 -s "$REPORT" "http://127.0.0.1:$PORT/api/v2/abm/jobs/$JOB/status"
curl -s "http://127.0.0.1:$PORT/api/v2/abm/queue/stats"; echo

python3 - "$OUT/http.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print()
print("| case | connections | requests/s | p50 ms | p99 ms | errors |")
print("|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['case']} | {r['connections']} | {r['rps']:.0f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | {r['socket_errors'] + r['non_2xx']} |")
live = rows[0]["rps"]
sync1 = rows[2]["p50_ms"]
print()
print(f"/api/v1/health/live: {live:.0f} req/s; target 20,000 -> x{live/20000:.2f}")
print(f"simulate-sync small, 1 connection: p50 {sync1:.3f} ms; target 1 ms -> x{1/sync1:.2f}; Python 12 ms -> {12/sync1:.0f}x faster")
PY
