#!/usr/bin/env bash
# Jobs in the store: resident memory, listing latency, submit throughput and startup time as the number of
# stored jobs grows, on a release build of `abm serve` with the durable SQLite store (full sync), on loopback.
#   benchmarks/jobs.sh                  # 100,000 jobs through HTTP, then 1,000,000 stored
#   JOBS_HTTP=20000 JOBS_STORED=200000 benchmarks/jobs.sh   # a shorter run
# Phases: (1) an empty store; list a page with 10 jobs; submit for SUBMIT_SECONDS with wrk and let every job
# finish, then finish more until JOBS_HTTP jobs went through the service; (2) stop, add finished jobs to the
# file until it holds JOBS_STORED (abm-bench seed-jobs writes them as the service would have); (3) start on
# it: time to ready, resident memory, a page at the start and at the end of the listing, the same submit
# load again. Memory growth = resident memory after the load with JOBS_STORED jobs minus the same after the
# load on the empty store.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS_HTTP=${JOBS_HTTP:-100000}
JOBS_STORED=${JOBS_STORED:-1000000}
SUBMIT_SECONDS=${SUBMIT_SECONDS:-10}
PORT=${PORT:-18481}
OUT=benchmarks/out
mkdir -p "$OUT"
scripts/bootstrap
swift build -c release --product abm >/dev/null
swift build -c release --product abm-bench >/dev/null
export REPORT="$PWD/benchmarks/report.lua"
DATA=$(mktemp -d)
URL="http://127.0.0.1:$PORT"
SERVER=""
stop() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true; SERVER=""; }
trap 'stop; rm -rf "$DATA"' EXIT

start() { # starts the server; READY: the seconds from exec to a 200 from /health/ready
  local t0 t1
  t0=$(date +%s.%N)
  RATE_LIMIT_ENABLED=false ABM_MAX_QUEUED_JOBS=1000000 ABM_MAX_QUEUED_JOBS_PER_CLIENT=0 LOG_LEVEL=WARNING \
    ABM_DATA_DIR="$DATA" ABM_PORT="$PORT" ABM_DISK_MIN_FREE_BYTES=0 .build/release/abm serve >/dev/null 2>>"$OUT/jobs-server.log" &
  SERVER=$!
  for _ in $(seq 3000); do curl -sf "$URL/health/ready" >/dev/null 2>&1 && break; sleep 0.01; done
  t1=$(date +%s.%N)
  READY=$(python3 -c "print(f'{$t1 - $t0:.3f}')")
}
rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER/status"; }
counts() { curl -s "$URL/api/v2/abm/queue/stats"; }
wait_idle() { # until nothing is pending or running
  for _ in $(seq 6000); do
    counts | python3 -c 'import sys,json; c=json.load(sys.stdin)["status_counts"]; sys.exit(0 if c["pending"]+c["running"]==0 else 1)' && return
    sleep 0.1
  done
}
total() { counts | python3 -c 'import sys,json; print(json.load(sys.stdin)["total_jobs"])'; }
wrk_line() { wrk "$@" | tail -n 1; }
# A page of the listing: median latency over 3 s on one connection.
page_ms() { wrk_line -t1 -c1 -d3s -s "$REPORT" "$1" | python3 -c 'import sys,json; print("%.3f" % json.load(sys.stdin)["p50_ms"])'; }
python3 -c "import json;d=json.load(open('examples/abm-small.json'));d['abm'].pop('seed');d['token']['horizon_months']=6;d['abm']['agents_per_cohort']=5;json.dump(d,open('$OUT/jobs-unseeded.json','w'))"
submit() { BODY="$PWD/$OUT/jobs-unseeded.json" wrk_line -t2 -c8 -d"${SUBMIT_SECONDS}s" -s benchmarks/post.lua "$URL/api/v2/abm/simulate"; }
: > "$OUT/jobs-server.log"

echo "phase 1: empty store" >&2
start
READY_EMPTY=$READY
for _ in $(seq 10); do curl -s -X POST -H 'content-type: application/json' --data @"$OUT/jobs-unseeded.json" "$URL/api/v2/abm/simulate" >/dev/null; done
wait_idle
PAGE_10=$(page_ms "$URL/api/v2/abm/jobs?limit=10")
RSS_START=$(rss_mib)
SUBMIT_EMPTY=$(submit)
wait_idle
while [ "$(total)" -lt "$JOBS_HTTP" ]; do submit >/dev/null; wait_idle; done
RSS_HTTP=$(rss_mib)
HTTP_DONE=$(total)
stop

echo "phase 2: seeding to $JOBS_STORED stored jobs" >&2
SEED=$(.build/release/abm-bench seed-jobs "$DATA" "$JOBS_STORED")
DB_MIB=$(du -sm "$DATA" | cut -f1)

echo "phase 3: $JOBS_STORED stored jobs" >&2
start
READY_FULL=$READY
RSS_READY=$(rss_mib)
PAGE_FIRST=$(page_ms "$URL/api/v2/abm/jobs?limit=10")
PAGE_FIRST_100=$(page_ms "$URL/api/v2/abm/jobs")
LAST_SEQ=$(python3 -c "import sys; n=$JOBS_STORED - 150; d='0123456789abcdefghijklmnopqrstuvwxyz'; s=''
while n: s=d[n%36]+s; n//=36
print(s or '0')")
PAGE_DEEP=$(page_ms "$URL/api/v2/abm/jobs?limit=10&cursor=c1.$LAST_SEQ")
STATS_MS=$(page_ms "$URL/api/v2/abm/queue/stats")
READY_MS=$(page_ms "$URL/health/ready")
SUBMIT_FULL=$(submit)
wait_idle
RSS_FULL=$(rss_mib)
FULL_TOTAL=$(total)
stop

python3 - <<PY
import json
se, sf, seed = json.loads('''$SUBMIT_EMPTY'''), json.loads('''$SUBMIT_FULL'''), json.loads('''$SEED''')
rows = {
  "jobs through HTTP (phase 1)": $HTTP_DONE,
  "stored jobs (phase 3)": $FULL_TOTAL,
  "database size, MiB": $DB_MIB,
  "seeding, s": round(seed["seconds"], 1),
  "ready, empty store, s": $READY_EMPTY,
  "ready, $JOBS_STORED stored jobs, s": $READY_FULL,
  "resident memory, empty store after warm-up, MiB": $RSS_START,
  "resident memory after $HTTP_DONE jobs through HTTP, MiB": $RSS_HTTP,
  "resident memory just ready with $JOBS_STORED jobs, MiB": $RSS_READY,
  "resident memory after the submit load with $JOBS_STORED jobs, MiB": $RSS_FULL,
  "list page (10 jobs), 10 jobs stored, p50 ms": $PAGE_10,
  "list page (10 jobs), first of $JOBS_STORED, p50 ms": $PAGE_FIRST,
  "list page (10 jobs), last of $JOBS_STORED, p50 ms": $PAGE_DEEP,
  "list page (default, 100 jobs), first of $JOBS_STORED, p50 ms": $PAGE_FIRST_100,
  "queue/stats with $JOBS_STORED jobs, p50 ms": $STATS_MS,
  "/health/ready with $JOBS_STORED jobs, p50 ms": $READY_MS,
  "submit, empty store, jobs/s (wrk -c8)": round(se["rps"]),
  "submit, $JOBS_STORED stored jobs, jobs/s (wrk -c8)": round(sf["rps"]),
  "submit errors (socket + non-2xx)": se["socket_errors"] + se["non_2xx"] + sf["socket_errors"] + sf["non_2xx"],
}
print("| figure | value |")
print("|---|---|")
for k, v in rows.items(): print(f"| {k} | {v} |")
growth = $RSS_FULL - $RSS_HTTP
print()
print(f"memory growth from {$HTTP_DONE} to {$FULL_TOTAL} stored jobs: {growth:+.1f} MiB (target under 32 MiB)")
print(f"list page of 10 jobs at {$JOBS_STORED} stored vs 10 stored: x{max($PAGE_FIRST, $PAGE_DEEP) / $PAGE_10:.2f} (target within 2x)")
print(f"ready with {$JOBS_STORED} stored jobs: {$READY_FULL} s (target under 2 s)")
json.dump(rows, open("$OUT/jobs.json", "w"), indent=1)
PY
