#!/usr/bin/env bash
# Logging throughput: JSON lines through the service's log handler into a rotating file (10 MiB per file,
# so rotation is on), from 2 threads, in a release build. Target: at least 500,000 lines per second.
#   benchmarks/logging.sh            # 2,000,000 lines
#   LINES=5000000 benchmarks/logging.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${LINES:-2000000}
OUT=benchmarks/out
mkdir -p "$OUT"
swift build -c release --product abm-bench >/dev/null
.build/release/abm-bench log "$OUT/logbench" "$LINES" 2 | tee "$OUT/logging.jsonl"
python3 - "$OUT/logging.jsonl" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read())
print(f"{r['lines']:,} lines in {r['seconds']:.2f} s = {r['lines_per_sec']:,.0f} lines/s with {r['rotations']} rotations, {r['dropped']} dropped; target 500,000 -> x{r['lines_per_sec']/500000:.2f}")
PY
rm -rf "$OUT/logbench"
