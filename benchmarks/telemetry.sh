#!/usr/bin/env bash
# Cost of the telemetry stack on HTTP throughput: the same release binary with telemetry on (access log at
# INFO to a file, HTTP metrics, /metrics, the in-process alert evaluator) and off (PROMETHEUS_ENABLED=false,
# ABM_ALERTING_ENABLED=false, LOG_LEVEL=ERROR), alternating
# runs so both see the same machine. Target: under 5% fewer requests per second with telemetry on.
#   benchmarks/telemetry.sh           # 3 rounds of 8 s per mode
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-4}
DURATION=${DURATION:-8s}
OUT=benchmarks/out
mkdir -p "$OUT"
scripts/bootstrap
swift build -c release --product abm >/dev/null
PORT=${PORT:-18472}
export REPORT="$PWD/benchmarks/report.lua"
: > "$OUT/telemetry.jsonl"
run_mode() { # mode
  local mode=$1
  local env=(RATE_LIMIT_ENABLED=false ABM_JOB_STORE=memory ABM_LOG_TARGET=file ABM_LOG_FILE="$OUT/telemetry-$mode.log")
  if [ "$mode" = off ]; then env+=(PROMETHEUS_ENABLED=false ABM_ALERTING_ENABLED=false LOG_LEVEL=ERROR); fi
  env "${env[@]}" .build/release/abm serve --port "$PORT" 2>/dev/null &
  local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/api/v1/health/live" >/dev/null && break; sleep 0.1; done
  local line cpu0 cpu1
  cpu0=$(awk '{print $14+$15}' /proc/$pid/stat)
  line=$(wrk -t2 -c32 -d"$DURATION" -s "$REPORT" "http://127.0.0.1:$PORT/api/v1/health/live" | tail -n 1)
  cpu1=$(awk '{print $14+$15}' /proc/$pid/stat)
  echo "{\"mode\":\"$mode\",\"server_cpu_ticks\":$((cpu1 - cpu0)),${line#\{}" | tee -a "$OUT/telemetry.jsonl"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$OUT"/telemetry-"$mode".log*
}
for _ in $(seq "$ROUNDS"); do run_mode on; run_mode off; done
python3 - "$OUT/telemetry.jsonl" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1])]
on = [r["rps"] for r in rows if r["mode"] == "on"]
off = [r["rps"] for r in rows if r["mode"] == "off"]
m_on, m_off = statistics.mean(on), statistics.mean(off)
cost = (m_off - m_on) / m_off * 100
def cpu_per_request(mode):
    rs = [r for r in rows if r["mode"] == mode]
    return sum(r["server_cpu_ticks"] for r in rs) * 10_000 / sum(r["requests"] for r in rs)  # µs (100 ticks/s)
c_on, c_off = cpu_per_request("on"), cpu_per_request("off")
print(f"telemetry on: {m_on:,.0f} req/s (runs {', '.join(f'{x:,.0f}' for x in on)}); off: {m_off:,.0f} req/s (runs {', '.join(f'{x:,.0f}' for x in off)})")
print(f"server CPU per request: on {c_on:.1f} µs, off {c_off:.1f} µs (+{(c_on - c_off) / c_off * 100:.1f}%)")
print(f"cost of telemetry: {cost:.1f}% fewer requests/s; target under 5% -> {'met' if cost < 5 else 'NOT met'}")
PY
