#!/usr/bin/env bash
# Alert evaluation: 100 rules (rates summed by a label, error ratios, histogram quantiles, *_over_time with
# offset and vector matching, absent, increase, irate, delta, clamp) over a sample store holding 5,000 series
# with an hour of 15 s scrapes; the time to evaluate every group once (median and p95 of 50 evaluations),
# and the store's memory per series (it keeps each name only as long as some rule's range needs). Target: one evaluation within 10 ms. Release build.
#   benchmarks/alerting.sh                  # 5,000 series, 100 rules
#   SERIES=20000 RULES=200 benchmarks/alerting.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SERIES=${SERIES:-5000}
RULES=${RULES:-100}
OUT=benchmarks/out
mkdir -p "$OUT"
swift build -c release --product abm-bench >/dev/null
: >"$OUT/alerting.jsonl"
for _ in 1 2 3; do .build/release/abm-bench alerting "$SERIES" "$RULES" | tee -a "$OUT/alerting.jsonl"; done
python3 - "$OUT/alerting.jsonl" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
best = sorted(runs, key=lambda r: r["median_eval_ms"])[len(runs) // 2]
assert all(r["rule_errors"] == 0 for r in runs), [r["first_error"] for r in runs]
print(f"{best['rules']} rules over {best['series']:,} series ({best['samples']:,} samples): "
      f"median {best['median_eval_ms']:.2f} ms, p95 {best['p95_eval_ms']:.2f} ms per evaluation; target 10 ms -> "
      f"{10 / best['median_eval_ms']:.2f}x under")
print(f"memory per series: {best['store_bytes_per_series']:.0f} B counted by the store, {best['rss_bytes_per_series']:.0f} B of resident memory "
      f"(fed an hour of 15 s scrapes, the store keeps what the rules read: {best['samples'] / best['series']:.0f} samples a series, "
      f"16 B a sample plus the series' labels)")
PY
