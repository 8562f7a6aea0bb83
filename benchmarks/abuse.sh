#!/usr/bin/env bash
# The hostile-client suite: every case of the bounded-cost review against a release build at default
# settings, with the bounds that fail the run (see benchmarks/abuse.py for the cases and the bounds).
#   benchmarks/abuse.sh                      # full: 3000 slow-header connections, 8 stalled readers
#   benchmarks/abuse.sh --short              # CI: 500 and 4
#   ABM_BIN=/path/to/old/abm benchmarks/abuse.sh --measure   # figures only, for a before/after table
# Figures: one JSON line per case on stdout and in benchmarks/out/abuse.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${ABM_BIN:-}
if [ -z "$BIN" ]; then
  swift build -c release --product abm >/dev/null
  BIN=.build/release/abm
fi
mkdir -p benchmarks/out
ABUSE_OUT=${ABUSE_OUT:-benchmarks/out/abuse.jsonl} exec python3 benchmarks/abuse.py "$BIN" "$@"
