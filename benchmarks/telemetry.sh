#!/usr/bin/env bash
# Cost of the whole telemetry stack on HTTP throughput: the same release binary with telemetry on (access log
# at INFO to a file, HTTP metrics, /metrics, the in-process alert evaluator, and tracing at the default
# sampler exporting OTLP/HTTP to a local sink) and off (PROMETHEUS_ENABLED=false, ABM_ALERTING_ENABLED=false,
# LOG_LEVEL=ERROR, no OTLP endpoint), in alternating rounds so both see the same machine, for two cases:
# GET /api/v1/health/live (wrk -t2 -c32) and a small POST /api/v2/abm/simulate-sync (wrk -t2 -c8).
# Target: under 5% fewer requests per second with telemetry on, in both cases. A third mode, "on10", is "on"
# with head sampling of 10% of new traces (OTEL_TRACES_SAMPLER=parentbased_traceidratio, ARG=0.1), to show
# what the span pipeline costs against the rest.
#   benchmarks/telemetry.sh                  # 4 rounds of 8 s per mode and case
#   ROUNDS=6 DURATION=6s benchmarks/telemetry.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-4}
DURATION=${DURATION:-8s}
OUT=benchmarks/out
mkdir -p "$OUT"
scripts/bootstrap
swift build -c release --product abm >/dev/null
PORT=${PORT:-18472}
SINK=$((PORT + 1))
export REPORT="$PWD/benchmarks/report.lua"
: > "$OUT/telemetry.jsonl"

# The OTLP/HTTP sink: reads each export and answers as a collector does (an empty ExportTraceServiceResponse),
# counting requests and bytes; it decodes nothing, so it costs the shared CPUs as little as a sink can.
python3 - "$SINK" "$OUT/telemetry-sink.json" <<'PY' &
import http.server, json, sys, threading, signal
stats = {"exports": 0, "bytes": 0}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0")); self.rfile.read(n)
        stats["exports"] += 1; stats["bytes"] += n
        self.send_response(200); self.send_header("Content-Type", "application/x-protobuf"); self.send_header("Content-Length", "0"); self.end_headers()
s = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
def stop(*_):
    json.dump(stats, open(sys.argv[2], "w")); threading.Thread(target=s.shutdown).start()
signal.signal(signal.SIGTERM, stop)
s.serve_forever()
PY
SINK_PID=$!
trap 'kill $SINK_PID 2>/dev/null || true' EXIT

run_mode() { # mode case
  local mode=$1 case=$2
  local env=(RATE_LIMIT_ENABLED=false ABM_JOB_STORE=memory ABM_LOG_TARGET=file ABM_LOG_FILE="$OUT/telemetry-$mode.log")
  if [ "$mode" = off ]; then
    env+=(PROMETHEUS_ENABLED=false ABM_ALERTING_ENABLED=false LOG_LEVEL=ERROR)
  else
    env+=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK")
    [ "$mode" = on10 ] && env+=(OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.1)
  fi
  env "${env[@]}" .build/release/abm serve --port "$PORT" --data-dir "$OUT/telemetry-data" 2>/dev/null &
  local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/api/v1/health/live" >/dev/null && break; sleep 0.1; done
  local line cpu0 cpu1
  cpu0=$(awk '{print $14+$15}' /proc/$pid/stat)
  if [ "$case" = live ]; then
    line=$(wrk -t2 -c32 -d"$DURATION" -s "$REPORT" "http://127.0.0.1:$PORT/api/v1/health/live" | tail -n 1)
  else
    line=$(BODY="$PWD/examples/abm-small.json" wrk -t2 -c8 -d"$DURATION" -s benchmarks/post.lua "http://127.0.0.1:$PORT/api/v2/abm/simulate-sync" | tail -n 1)
  fi
  cpu1=$(awk '{print $14+$15}' /proc/$pid/stat)
  local spans=0
  [ "$mode" != off ] && spans=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^abm_tracing_spans_exported_total /{print $2}')
  echo "{\"mode\":\"$mode\",\"case\":\"$case\",\"server_cpu_ticks\":$((cpu1 - cpu0)),\"spans_exported\":${spans:-0},${line#\{}" | tee -a "$OUT/telemetry.jsonl"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$OUT"/telemetry-"$mode".log* "$OUT/telemetry-data"
}
for _ in $(seq "$ROUNDS"); do
  for case in live sync; do run_mode on "$case"; run_mode off "$case"; run_mode on10 "$case"; done
done
kill $SINK_PID; wait $SINK_PID 2>/dev/null || true
python3 - "$OUT/telemetry.jsonl" "$OUT/telemetry-sink.json" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1])]
sink = json.load(open(sys.argv[2]))
print(f"OTLP sink: {sink['exports']:,} exports, {sink['bytes'] / 1e6:,.1f} MB")
worst = 0
for case, title in (("live", "GET /api/v1/health/live, -c32"), ("sync", "POST /api/v2/abm/simulate-sync (small), -c8")):
    rps = {m: [r["rps"] for r in rows if r["mode"] == m and r["case"] == case] for m in ("on", "off", "on10")}
    mean = {m: statistics.mean(v) for m, v in rps.items()}
    def cpu(mode):
        rs = [r for r in rows if r["mode"] == mode and r["case"] == case]
        return sum(r["server_cpu_ticks"] for r in rs) * 10_000 / sum(r["requests"] for r in rs)  # µs (100 ticks/s)
    print(f"{title}:")
    for m in ("off", "on", "on10"):
        spans = sum(r["spans_exported"] for r in rows if r["mode"] == m and r["case"] == case)
        cost = (mean["off"] - mean[m]) / mean["off"] * 100
        if m == "on":
            worst = max(worst, cost)
        extra = "" if m == "off" else f"; {cost:.1f}% fewer requests/s than off, CPU +{(cpu(m) - cpu('off')) / cpu('off') * 100:.1f}%, spans exported {spans:,.0f}"
        print(f"  {m:4} {mean[m]:,.0f} req/s (runs {', '.join(f'{x:,.0f}' for x in rps[m])}), server CPU {cpu(m):.1f} µs/request{extra}")
print(f"worst case at the default sampler: {worst:.1f}% -> {'met' if worst < 5 else 'NOT met'} (target under 5%)")
PY
