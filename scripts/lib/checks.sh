# Shared by the end-to-end and fault scripts (sourced, not run). The caller sets W (a scratch directory)
# before sourcing; background processes it starts go into PIDS.
#   fail MESSAGE            print FAIL and the tail of every log in $W, exit 1
#   wait_for COND SECS DESC  poll the shell condition every 0.1 s; "ok: DESC (elapsed)" or fail
#   stop_pids               SIGTERM every process in PIDS, SIGKILL what is left after 5 s, reap them
PIDS=()
CHECKS_T0=$(date +%s%N)

elapsed() { local d=$((($(date +%s%N) - CHECKS_T0) / 1000000)); printf "%d.%03d s" $((d / 1000)) $((d % 1000)); }

fail() {
  echo "FAIL: $*"
  for f in "$W"/*.log "$W"/logs/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 25 "$f"; }; done
  exit 1
}

wait_for() {
  local end=$(($(date +%s) + $2))
  until eval "$1" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt $end ] || fail "timed out after $2 s: $3"
    sleep 0.1
  done
  echo "ok: $3 ($(elapsed))"
}

stop_pids() {
  local p alive
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do
    alive=0
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
