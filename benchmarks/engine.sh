#!/usr/bin/env bash
# Engine benchmark: times the ABM engine (agent creation plus the monthly loop, without parsing) on the
# spec's request bodies and on a 1,000,000-agent request, in a release build, one process per case so each
# peak-memory figure is its own. Prints one JSON line per case, then a table with ratios against targets.
#   benchmarks/engine.sh            # default iterations
#   ITERATIONS=20 benchmarks/engine.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ITERATIONS=${ITERATIONS:-7}
OUT=benchmarks/out
mkdir -p "$OUT"
swift build -c release --product abm-bench >/dev/null
BIN=.build/release/abm-bench
REQ=Tests/SimulationTests/Fixtures/requests

# Generated requests: 1000 cohorts x 1000 meta agents (the most the API allows), at several horizons.
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
def million(months):
    b = [{"bucket": "B%d" % i, "allocation": 0.1, "tge_unlock_pct": 5, "cliff_months": i % 13,
          "vesting_months": 12 + i % 37} for i in range(1000)]
    return {"token": {"name": "Million", "total_supply": 1e10, "start_date": "2026-01-01", "horizon_months": months},
            "buckets": b, "abm": {"agent_granularity": "meta_agents", "agents_per_cohort": 1000, "pricing_model": "eoe", "seed": 42}}
for m in (12, 60, 240):
    json.dump(million(m), open(f"{out}/million-{m}.json", "w"))
mc = json.load(open("Tests/SimulationTests/Fixtures/requests/abm-sync-medium-dynamics.json"))
mc["monte_carlo"] = {"num_trials": 1000, "seed": 7}
json.dump(mc, open(f"{out}/montecarlo-medium.json", "w"))
PY

results="$OUT/engine.jsonl"
: > "$results"
for f in $REQ/abm-sync-small.json $REQ/abm-sync-medium.json $REQ/abm-sync-medium-dynamics.json $REQ/abm-sync-large.json; do
  "$BIN" engine "$f" "$ITERATIONS" | tee -a "$results"
done
for m in 12 60 240; do
  "$BIN" engine "$OUT/million-$m.json" 3 | tee -a "$results"
done
"$BIN" montecarlo "$OUT/montecarlo-medium.json" 1 | tee -a "$results"
"$BIN" montecarlo "$OUT/montecarlo-medium.json" 0 | tee -a "$results"

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
eng = {r["file"]: r for r in rows if "median_ms" in r}
mc = [r for r in rows if "trials" in r]
print()
print("| case | agents x months | median ms | agent-months/s | peak RSS MiB |")
print("|---|---|---|---|---|")
for name, r in eng.items():
    print(f"| {name} | {r['agents']} x {r['months']} | {r['median_ms']:.2f} | {r['agent_months_per_sec']:.3g} | {r['peak_rss_mib']:.1f} |")
large = eng["abm-sync-large.json"]["median_ms"]
million = eng["million-60.json"]["median_ms"]
print()
print(f"large (10,000 x 60): {large:.2f} ms; target 10 ms -> {10/large:.1f}x under target; Python 4900 ms -> {4900/large:.0f}x faster")
print(f"1,000,000 x 60: {million:.0f} ms; target 1500 ms -> {1500/million:.1f}x under target")
m12, m240 = eng["million-12.json"]["peak_rss_mib"], eng["million-240.json"]["peak_rss_mib"]
print(f"memory, 1,000,000 agents: {m12:.0f} MiB at 12 months, {m240:.0f} MiB at 240 months (x{m240/m12:.2f} for 20x the months)")
if len(mc) == 2:
    one, all_ = mc
    same = "identical" if one["output_sha"] == all_["output_sha"] else "DIFFERENT"
    print(f"Monte Carlo, 1000 trials of medium-dynamics: {one['seconds']:.2f} s on 1 thread, {all_['seconds']:.2f} s on {all_['threads']} -> {one['seconds']/all_['seconds']:.2f}x; outputs {same}")
PY
