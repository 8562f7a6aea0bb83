#!/usr/bin/env bash
# The real abm.service under a real systemd: boots a container (systemd-nspawn, the host's /usr on a
# volatile root, sharing the host's loopback), installs the shipped unit and the given binary, and checks:
# activating until READY=1 then active with its StatusText; a request's log lines found with
# `journalctl -u abm.service REQUEST_ID=...`; a stalled service (SIGSTOP) killed by the watchdog and
# restarted, with a job submitted before it surviving; `systemctl reload` applying a new log level;
# a crash (a trap, from the debug build's crash-on-sigusr2 fault) under the hardened unit leaves a JSON crash report from the Swift backtracer in the state
# directory, and the restarted service logs it and reports it in abm_crash_reports_recent;
# `systemctl stop` draining and exiting cleanly. Teardown leaves nothing running.
#   scripts/systemd-e2e.sh .build/debug/abm [port]
# Needs root and systemd-nspawn (Debian's systemd-container, installed by scripts/bootstrap).
set -euo pipefail
BIN=$(readlink -f "$1")
PORT=${2:-18491}
ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d /tmp/abm-systemd-e2e.XXXXXX)
NAME=abme2e$$
mkdir -p "$W/bin" "$W/dropin"
cp "$BIN" "$W/bin/abm"
# The binary and the backtracer where the container can see them (its /usr is the host's, read-only).
sed -e 's#^ExecStart=/usr/local/bin/abm serve#ExecStart=/opt/abm/bin/abm serve#' \
    -e 's#swift-backtrace=/usr/local/libexec/abm/swift-backtrace#swift-backtrace=/opt/abm/bin/swift-backtrace#' \
    "$ROOT_DIR/ops/systemd/abm.service" > "$W/abm.service"
BT=/opt/swift/usr/libexec/swift/linux/swift-backtrace-static
[ -x "$BT" ] && cp "$BT" "$W/bin/swift-backtrace"
# Short timings for the test only; everything else is the shipped unit.
printf '[Service]\nWatchdogSec=2\nTimeoutAbortSec=2\nRestartSec=1\n' > "$W/dropin/test.conf"
printf 'LOG_LEVEL=INFO\nABM_PORT=%s\nABM_TEST_FAULTS=crash-on-sigusr2\n' "$PORT" > "$W/abm.env"

fail() { echo "FAIL: $*"; exit 1; }
wait_until() { local end=$(( $(date +%s) + $1 )); shift
  until eval "$@" >/dev/null 2>&1; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 0.2; done; }

binds=(--bind-ro="$W/bin:/opt/abm/bin" --bind-ro="$W/abm.service:/etc/systemd/system/abm.service"
       --bind-ro="$W/dropin:/etc/systemd/system/abm.service.d" --bind="$W/abm.env:/etc/abm/abm.env")
[ -d /opt/swift ] && binds+=(--bind-ro=/opt/swift)
SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 setsid systemd-nspawn --boot --register=no --keep-unit --console=read-only \
  --machine="$NAME" -D / --volatile=yes "${binds[@]}" \
  --capability=CAP_BPF,CAP_PERFMON --system-call-filter=bpf -- systemd.firstboot=off \
  >"$W/console.log" 2>&1 </dev/null &
NSPAWN=$!
cleanup() {
  for _ in $(seq 10); do kill -0 $NSPAWN 2>/dev/null || break; kill -TERM $NSPAWN 2>/dev/null || true
    for _ in $(seq 20); do kill -0 $NSPAWN 2>/dev/null || break 2; sleep 0.1; done; done
  kill -KILL $NSPAWN 2>/dev/null || true
  for h in systemd unified ""; do
    rmdir /sys/fs/cgroup/$h/payload/init.scope /sys/fs/cgroup/$h/payload /sys/fs/cgroup/$h/supervisor 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
LEADER=""
wait_until 30 'LEADER=$(ps --ppid $NSPAWN -o pid=,comm= | awk '"'"'$2=="systemd"{print $1}'"'"'); [ -n "$LEADER" ]' || fail "container did not boot: $(tail -5 "$W/console.log")"
C() { nsenter -t "$LEADER" -a "$@"; }
prop() { C systemctl show -p "$1" --value abm.service; }
wait_until 60 '[[ "$(C systemctl is-system-running)" =~ ^(running|degraded)$ ]]' || fail "container never reached running"
echo "ok: container booted"

# Presets may have started it at boot: start from a clean stop.
C systemctl stop abm.service || true
C systemctl start --no-block abm.service
state=$(prop ActiveState)
[ "$state" = activating ] || [ "$state" = active ] || fail "unexpected state after start: $state"
echo "ok: $state right after start (READY=1 not yet sent, or already sent)"
wait_until 30 '[ "$(prop ActiveState)" = active ]' || fail "never active: $(C journalctl -u abm.service -o cat --no-pager | tail -5)"
status=$(prop StatusText)
[[ "$status" == serving* ]] || fail "StatusText is '$status'"
echo "ok: active, StatusText='$status'"

rid=$(curl -s -D - -o /dev/null "http://127.0.0.1:$PORT/" | tr -d '\r' | awk 'tolower($1)=="x-request-id:"{print $2}')
[ -n "$rid" ] || fail "no X-Request-ID"
wait_until 10 'C journalctl -u abm.service REQUEST_ID=$rid -o json --no-pager | grep -q "\"ROUTE\" *: *\"/\""' || fail "journal has no entry for REQUEST_ID=$rid"
echo "ok: journalctl -u abm.service REQUEST_ID=$rid finds the access log line with ROUTE"

job=$(curl -s -X POST -H 'content-type: application/json' --data @"$ROOT_DIR/examples/abm-small.json" "http://127.0.0.1:$PORT/api/v2/abm/simulate" | python3 -c 'import sys,json;print(json.load(sys.stdin)["job_id"])')
C systemctl kill --signal=SIGSTOP abm.service
wait_until 40 '[ "$(prop NRestarts)" = 1 ] && [ "$(prop ActiveState)" = active ]' || fail "no watchdog restart (NRestarts=$(prop NRestarts), $(prop ActiveState))"
wait_until 10 'C journalctl -u abm.service -o cat --no-pager | grep -q "Watchdog timeout"' || fail "no 'Watchdog timeout' in the journal"
wait_until 20 'curl -sf "http://127.0.0.1:$PORT/api/v2/abm/jobs/$job/status" | grep -q "\"status\":\"completed\""' || fail "job $job did not survive the restart"
echo "ok: SIGSTOP -> watchdog timeout -> restarted (NRestarts=1); job $job completed"

printf 'LOG_LEVEL=DEBUG\nABM_PORT=%s\nABM_TEST_FAULTS=crash-on-sigusr2\n' "$PORT" > "$W/abm.env"
C systemctl reload abm.service
wait_until 10 'C journalctl -u abm.service -o cat --no-pager | grep -q "reload: log level applied"' || fail "reload did not apply the log level"
[ "$(prop ActiveState)" = active ] || fail "not active after reload"
echo "ok: systemctl reload applied LOG_LEVEL=DEBUG"

# The shipped watchdog period from here on: the backtrace must fit in it, as it must in production.
printf '[Service]\nRestartSec=1\n' > "$W/dropin/test.conf"
C systemctl daemon-reload
C systemctl kill --signal=SIGUSR2 abm.service
wait_until 40 '[ "$(prop NRestarts)" = 2 ] && [ "$(prop ActiveState)" = active ]' || fail "no restart after the crash (NRestarts=$(prop NRestarts), $(prop ActiveState))"
wait_until 20 'C sh -c "ls /var/lib/private/abm/crash/*.json"' || fail "no crash report in the state directory: $(C journalctl -u abm.service -o cat --no-pager | grep -iE 'signal|backtrac|crash|dumped|status=' | tail -8)"
report=$(C sh -c 'ls /var/lib/private/abm/crash/*.json' | head -1)
C python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["kind"]=="crashReport" and any(t.get("crashed") for t in d["threads"]), d.get("kind")' "$report" \
  || fail "the crash report $report is not the backtracer's JSON"
wait_until 20 'C journalctl -u abm.service MESSAGE_ID=5d7f9b1c3e5a46c8b0d2f4a6c8e0b2da -o json --no-pager | grep -q "Illegal instruction"' \
  || fail "the restarted service did not log the crash report: $(C journalctl -u abm.service -o cat --no-pager | tail -5)"
wait_until 10 'curl -sf "http://127.0.0.1:$PORT/metrics" | grep -q "^abm_crash_reports_recent 1"' || fail "abm_crash_reports_recent is not 1"
echo "ok: a crash (a trap) under the hardened unit -> JSON crash report $(basename "$report") -> restarted, logged as crash_report, abm_crash_reports_recent 1"

C systemctl stop abm.service
[ "$(prop Result)" = success ] || fail "stop result $(prop Result)"
wait_until 10 'C journalctl -u abm.service -o cat --no-pager | grep -q "shutting down"' || fail "no drain logged"
echo "ok: systemctl stop drained and exited cleanly (Result=success)"
echo "systemd e2e: all checks passed"
