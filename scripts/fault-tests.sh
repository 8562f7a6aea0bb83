#!/usr/bin/env bash
# Fault tests over the real binary and real files, one per subcommand. Each prints "ok: ..." lines and
# "PASS", or "FAIL: ..." with the logs, and exits non-zero on failure.
#   scripts/fault-tests.sh <abm binary> <port> sigterm-under-load
#   scripts/fault-tests.sh <abm binary> <port> log-disk-full        (root: a private mount namespace, a 256 KiB tmpfs)
#   scripts/fault-tests.sh <abm binary> <port> sqlite-locked
#   scripts/fault-tests.sh <abm binary> <port> sqlite-read-only     (root: a private mount namespace, a read-only bind mount)
set -euo pipefail
BIN=$(realpath "$1")
PORT=$2
CASE=$3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# The mount cases re-run themselves inside a private mount namespace, so nothing leaks to the host.
if [ "${CASE}" = log-disk-full ] || [ "${CASE}" = sqlite-read-only ]; then
  if [ -z "${ABM_FAULT_NS:-}" ]; then
    exec env ABM_FAULT_NS=1 unshare --mount --propagation private bash "$0" "$@"
  fi
fi
W=$(mktemp -d)
. "$ROOT/scripts/lib/checks.sh"
cleanup() {
  local status=$?
  stop_pids
  umount -l "$W/logs" 2>/dev/null || true
  umount -l "$W/data" 2>/dev/null || true
  rm -rf "$W" 2>/dev/null || true
  exit $status
}
trap cleanup EXIT
URL="http://127.0.0.1:$PORT"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
metric() { curl -s "$URL/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
SMALL=$(cat "$ROOT/Tests/SimulationTests/Fixtures/requests/abm-sync-small.json")
start() { # extra environment assignments...
  env ABM_HOST=127.0.0.1 ABM_PORT="$PORT" ABM_DATA_DIR="$W/data" RATE_LIMIT_ENABLED=false ABM_ALERT_EVAL_INTERVAL=1s "$@" \
    "$BIN" serve >"$W/abm.log" 2>&1 &
  PIDS+=($!)
  SERVER=$!
  wait_for "curl -sf $URL/health/ready" 30 "service ready"
}

case "$CASE" in
sigterm-under-load)
  # A service manager's notify socket, recorded with timestamps.
  python3 - "$W/notify.sock" "$W/notify.txt" >"$W/notify.log" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        m = s.recv(4096).decode()
        out.write(f"{time.time():.3f} {m.replace(chr(10), ' ')}\n")
PY
  PIDS+=($!)
  sleep 0.3
  mkdir -p "$W/data"
  # Requests that run about a second each (a million agents, 60 months; about 8 MB of JSON, more than the
  # socket buffers hold) are in flight when SIGTERM arrives.
  python3 - "$W/big.json" <<'PY'
import json, sys
b = [{"bucket": "B%d" % i, "allocation": 0.1, "tge_unlock_pct": 5, "cliff_months": i % 13, "vesting_months": 12 + i % 37} for i in range(1000)]
json.dump({"token": {"name": "Big", "total_supply": 1e10, "start_date": "2026-01-01", "horizon_months": 60}, "buckets": b,
           "abm": {"agent_granularity": "meta_agents", "agents_per_cohort": 1000, "seed": 1}}, open(sys.argv[1], "w"))
PY
  start NOTIFY_SOCKET="$W/notify.sock" ABM_SHUTDOWN_TIMEOUT_SECONDS=30 ABM_JOB_STORE=sqlite
  # Readiness is polled every 20 ms throughout; each answer is recorded with its time.
  (while true; do echo "$(date +%s.%N) $(code --max-time 2 "$URL/health/ready")"; sleep 0.02; done) >"$W/ready.txt" 2>/dev/null &
  PIDS+=($!)
  for i in 1 2; do
    curl -s -o "$W/big$i.out" -w '%{http_code}' --max-time 60 -H 'Content-Type: application/json' --data @"$W/big.json" \
      "$URL/api/v2/abm/simulate-sync" >"$W/big$i.code" 2>/dev/null &
    PIDS+=($!)
  done
  # Small requests keep coming from 4 clients.
  for c in 1 2 3 4; do
    (while true; do code --max-time 5 -H 'Content-Type: application/json' --data "$SMALL" "$URL/api/v2/abm/simulate-sync"; echo; done) >"$W/small$c.txt" 2>/dev/null &
    PIDS+=($!)
  done
  sleep 0.4
  wait_for "curl -s $URL/metrics | grep -Eq '^abm_http_requests_in_flight [2-9]'" 10 "two long requests in flight"
  t_term=$(date +%s.%N)
  kill -TERM "$SERVER"
  status=0
  wait "$SERVER" || status=$?
  t_exit=$(date +%s.%N)
  [ "$status" = 0 ] || fail "exit status $status after SIGTERM"
  elapsed=$(python3 -c "print(round($t_exit - $t_term, 2))")
  python3 -c "import sys; sys.exit(0 if $t_exit - $t_term < 30 + 5 else 1)" || fail "took ${elapsed} s to exit (bound 30 s + 5 s cancellation)"
  echo "ok: exit status 0, ${elapsed} s after SIGTERM (ABM_SHUTDOWN_TIMEOUT_SECONDS=30)"
  for i in 1 2; do
    wait_for "[ -s $W/big$i.code ]" 10 "long request $i answered"
    [ "$(cat "$W/big$i.code")" = 200 ] || fail "in-flight request $i got $(cat "$W/big$i.code")"
    python3 -c "import json,sys; d=json.load(open('$W/big$i.out')); sys.exit(0 if len(d['global_metrics']) == 60 else 1)" || { head -c 300 "$W/big$i.out"; echo; wc -c "$W/big$i.out"; fail "request $i body incomplete"; }
  done
  echo "ok: the requests in flight at SIGTERM completed with 200 and whole bodies ($(stat -c %s "$W/big1.out") bytes each)"
  grep -q "STOPPING=1" "$W/notify.txt" || fail "no STOPPING=1"
  t_stop=$(awk '/STOPPING=1/ { print $1; exit }' "$W/notify.txt")
  python3 -c "import sys; sys.exit(0 if $t_stop - $t_term < 1 else 1)" || fail "STOPPING=1 came $(python3 -c "print($t_stop - $t_term)") s after SIGTERM"
  echo "ok: STOPPING=1 within 1 s of SIGTERM"
  # Readiness: 200 before SIGTERM, then 503 while the requests finish, then no listener.
  python3 - "$W/ready.txt" "$t_term" "$t_exit" <<'PY' || fail "readiness did not turn false before the exit"
import sys
rows = [l.split() for l in open(sys.argv[1]) if len(l.split()) == 2]
term, exit_ = float(sys.argv[2]), float(sys.argv[3])
before = [c for t, c in rows if float(t) < term - 0.05]
during = [c for t, c in rows if term + 0.05 < float(t) < exit_ - 0.05]
assert before and all(c == "200" for c in before), before[-5:]
assert "503" in during, during[:10]
assert "200" not in during[during.index("503"):], "ready again after turning false"
print(f"ok: readiness 200 before SIGTERM, 503 from {during.index('503') * 20} ms after it until the exit")
PY
  if grep -hqE '^5[0-9][0-9]$' "$W"/small*.txt; then fail "a small request got a 5xx during shutdown: $(grep -hE '^5' "$W"/small*.txt | sort | uniq -c)"; fi
  echo "ok: no 5xx among $(cat "$W"/small*.txt | grep -c 200) small requests answered during the run ($(cat "$W"/small*.txt | grep -c '^000$' || true) refused once the listener closed)"
  ;;

log-disk-full)
  mkdir -p "$W/logs" "$W/data"
  mount -t tmpfs -o size=256k tmpfs "$W/logs"
  # The shipped rules with 1 s group intervals, so the alert shows within seconds.
  sed -e 's/^    interval: .*/    interval: 1s/' "$ROOT/alerts/abm.rules.yml" >"$W/rules.yml"
  start ABM_ALERT_RULES="$W/rules.yml" ABM_LOG_TARGET=file ABM_LOG_FILE="$W/logs/abm.log" ABM_LOG_MAX_BYTES=100000000 ABM_JOB_STORE=memory
  dd if=/dev/zero of="$W/logs/filler" bs=4k 2>/dev/null || true
  echo "ok: log file system full ($(df -k "$W/logs" | awk 'NR==2 { print $4 }') KiB free)"
  ok=0
  for i in $(seq 200); do [ "$(code -H 'Content-Type: application/json' --data "$SMALL" "$URL/api/v2/abm/simulate-sync")" = 200 ] && ok=$((ok + 1)); done
  [ $ok = 200 ] || fail "only $ok of 200 requests answered 200 with the log disk full"
  echo "ok: 200 of 200 requests answered 200 with the log disk full"
  wait_for "[ \"\$(metric abm_log_dropped_lines_total)\" -gt 0 ]" 10 "lost lines counted: abm_log_dropped_lines_total=$(metric abm_log_dropped_lines_total)"
  grep -q "log lines are being dropped" "$W/abm.log" || fail "nothing on stderr about the dropped lines"
  echo "ok: stderr says so: $(grep -m1 'log lines are being dropped' "$W/abm.log")"
  wait_for "curl -s $URL/api/v1/alerts | grep -q AbmLogLinesDropped" 10 "the service's own AbmLogLinesDropped alert fires"
  # Space comes back: logging resumes.
  before=$(stat -c %s "$W/logs/abm.log")
  rm -f "$W/logs/filler"
  for i in $(seq 20); do curl -s -o /dev/null "$URL/"; done   # probes log at debug: a request that logs at INFO
  wait_for "[ \$(stat -c %s $W/logs/abm.log) -gt $before ] && grep -q 'writable again' $W/abm.log" 10 "logging resumes once space is free, and stderr says so"
  ;;

sqlite-locked)
  mkdir -p "$W/data"
  start ABM_JOB_STORE=sqlite
  # Another process takes the database's write lock and holds it for 6 s.
  python3 - "$W/data/jobs.sqlite3" "$W/locked" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(6)
c.execute("ROLLBACK")
PY
  LOCKER=$!
  PIDS+=($LOCKER)
  wait_for "[ -f $W/locked ]" 10 "another process holds an exclusive lock on jobs.sqlite3"
  [ "$(code "$URL/health/ready")" = 503 ] || fail "ready while the store is locked"
  reason=$(curl -s "$URL/health/ready?verbose" | python3 -c 'import json,sys; c=json.load(sys.stdin)["checks"]["job-store:writable"][0]; print(c.get("output", ""))')
  case "$reason" in *locked* | *busy* | *time*) ;; *) fail "readiness reason does not say why: '$reason'" ;; esac
  echo "ok: readiness 503, job-store:writable says: $reason"
  [ "$(code "$URL/health/live")" = 200 ] || fail "liveness failed while the store is locked"
  echo "ok: liveness stays 200"
  submit=$(code -H 'Content-Type: application/json' --data "$SMALL" "$URL/api/v2/abm/simulate" || true)
  echo "submission answered $submit"
  case "$submit" in 200) echo "ok: a submission waited for the lock and was accepted" ;;
  503) grep '"level":"error"' "$W/abm.log" | grep -v '/health' | grep -q 'database is locked' || { grep '"level":"error"' "$W/abm.log" | tail -3; fail "503 without a logged cause"; }
       echo "ok: a submission got 503, its cause logged: $(grep '"level":"error"' "$W/abm.log" | grep -v '/health' | grep -m1 'database is locked' | cut -c1-300)" ;;
  *) fail "a submission got $submit while the store was locked" ;;
  esac
  wait "$LOCKER" || true
  wait_for "[ \$(code $URL/health/ready) = 200 ]" 15 "readiness recovers once the lock is released"
  [ "$(code -H 'Content-Type: application/json' --data "$SMALL" "$URL/api/v2/abm/simulate")" = 200 ] || fail "no submission after recovery"
  echo "ok: submissions accepted again"
  ;;

sqlite-read-only)
  # A data directory that turns read-only (a file system remounted read-only after disk errors): the
  # service is restarted on it, then it becomes writable again. (A mount cannot turn read-only under a
  # process that has files open on it for writing, so the fault comes between two runs.)
  mkdir -p "$W/data"
  mount --bind "$W/data" "$W/data"
  start ABM_JOB_STORE=sqlite
  [ "$(code -H 'Content-Type: application/json' --data "$SMALL" "$URL/api/v2/abm/simulate")" = 200 ] || fail "no submission before the fault"
  kill -TERM "$SERVER"
  wait "$SERVER" || true
  mount -o remount,bind,ro "$W/data"
  echo "ok: data directory remounted read-only, holding a job store with one job"
  env ABM_HOST=127.0.0.1 ABM_PORT="$PORT" ABM_DATA_DIR="$W/data" RATE_LIMIT_ENABLED=false ABM_JOB_STORE=sqlite "$BIN" serve >"$W/abm.log" 2>&1 &
  PIDS+=($!)
  wait_for "[ \$(code $URL/health/live) = 200 ]" 30 "the service starts and is live on a read-only store"
  [ "$(code "$URL/health/ready")" = 503 ] || fail "ready on a read-only store"
  reason=$(curl -s "$URL/health/ready?verbose" | python3 -c 'import json,sys; c=json.load(sys.stdin)["checks"]; print(" / ".join(x[0].get("output", "") for x in c.values() if x[0]["status"] == "fail"))')
  case "$reason" in *read*only* | *readonly*) ;; *) fail "readiness reason does not say why: '$reason'" ;; esac
  echo "ok: readiness 503, saying: $reason"
  submit=$(code -H 'Content-Type: application/json' --data "$SMALL" "$URL/api/v2/abm/simulate" || true)
  [ "$submit" = 503 ] || fail "a submission got $submit on a read-only store (want 503)"
  grep '"level":"error"' "$W/abm.log" | grep -v '/health' | grep -qiE 'read.?only' || { grep '"level":"error"' "$W/abm.log" | tail -3; fail "503 without a logged cause"; }
  echo "ok: a submission gets 503 and the log says why: $(grep '"level":"error"' "$W/abm.log" | grep -v '/health' | grep -iE -m1 'read.?only' | cut -c1-300)"
  [ "$(code -H 'Content-Type: application/json' --data "$SMALL" "$URL/api/v2/abm/simulate-sync")" = 200 ] || fail "sync simulation failed on a read-only store"
  echo "ok: synchronous simulations still answer 200"
  mount -o remount,bind,rw "$W/data"
  wait_for "[ \$(code $URL/health/ready) = 200 ]" 30 "readiness recovers once the directory is writable"
  [ "$(code -H 'Content-Type: application/json' --data "$SMALL" "$URL/api/v2/abm/simulate")" = 200 ] || fail "no submission after recovery"
  echo "ok: submissions accepted again"
  ;;
*)
  echo "unknown case $CASE" >&2
  exit 64
  ;;
esac
echo PASS
