#!/usr/bin/env bash
# Several instances over one local PostgreSQL, on a release build (see benchmarks/cluster.py for each
# figure): jobs/s with 1, 2 and 4 instances, p99 pickup with NOTIFY and with polling only, time to rescue a
# killed instance's job, SSE progress latency across instances.
#   benchmarks/cluster.sh                  # 20,000 jobs per throughput run, 300 pickups
#   benchmarks/cluster.sh --short          # 3,000 and 50
#   ONLY=throughput JOBS=50000 benchmarks/cluster.sh
#   CLUSTER_PG_OPTIONS="fsync=on synchronous_commit=on" ONLY=throughput benchmarks/cluster.sh   # durable commits
# Figures: one JSON line each on stdout and in benchmarks/out/cluster.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap
BIN=${ABM_BIN:-}
if [ -z "$BIN" ]; then
  swift build -c release --product abm >/dev/null
  BIN=.build/release/abm
fi
mkdir -p benchmarks/out
exec python3 benchmarks/cluster.py "$BIN" "$@"
