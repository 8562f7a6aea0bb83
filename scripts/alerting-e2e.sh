#!/usr/bin/env bash
# Alerting end to end, over loopback: the service evaluates a test copy of alerts/abm.rules.yml (1 s group
# intervals, `for: 1s`) itself, Debian's Prometheus scrapes the service and evaluates the same file, and
# Debian's Alertmanager receives from both and notifies a webhook. The queue is driven full (capacity 1, one
# long Monte Carlo job running and one waiting), AbmJobQueueFull must appear in the service's
# /api/v1/alerts, Prometheus's /api/v1/alerts and Alertmanager's /api/v2/alerts, then resolve everywhere
# once the waiting job is cancelled.
#   scripts/alerting-e2e.sh <abm binary> [base port]    (uses base..base+3 on 127.0.0.1)
set -euo pipefail
BIN=$(realpath "$1")
BASE=${2:-18500}
ABM=$BASE PROM=$((BASE + 1)) AM=$((BASE + 2)) HOOK=$((BASE + 3))
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d)
. "$ROOT/scripts/lib/checks.sh"
cleanup() {
  stop_pids
  rm -rf "$W"
}
trap cleanup EXIT
# alert_in URL NAME: the alert is active (Prometheus API: state firing; Alertmanager v2: status.state active).
alert_in() {
  curl -sf "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
alerts = d["data"]["alerts"] if isinstance(d, dict) else d
ok = any(a["labels"]["alertname"] == sys.argv[1] and (a.get("state") == "firing" or a.get("status", {}).get("state") == "active") for a in alerts)
sys.exit(0 if ok else 1)' "$2"
}

sed -e 's/^    interval: .*/    interval: 1s/' -e 's/^        for: .*/        for: 1s/' "$ROOT/alerts/abm.rules.yml" >"$W/rules.yml"
cat >"$W/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ['$W/rules.yml']
alerting:
  alertmanagers: [{static_configs: [{targets: ['127.0.0.1:$AM']}]}]
scrape_configs:
  - job_name: abm
    static_configs: [{targets: ['127.0.0.1:$ABM']}]
YML
cat >"$W/alertmanager.yml" <<YML
route: {receiver: hook, group_by: [alertname], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}
receivers:
  - name: hook
    webhook_configs: [{url: 'http://127.0.0.1:$HOOK/', send_resolved: true}]
YML
promtool check rules "$W/rules.yml" >/dev/null || fail "promtool rejects the test rules"
promtool check config "$W/prometheus.yml" >/dev/null || fail "promtool rejects the scrape config"
amtool check-config "$W/alertmanager.yml" >/dev/null || fail "amtool rejects the Alertmanager config"
"$BIN" rules check "$W/rules.yml" >/dev/null || fail "abm rules check rejects the test rules"

python3 - "$HOOK" "$W/hooks.jsonl" >"$W/hook.log" 2>&1 <<'PY' &
import http.server, sys
port, out = int(sys.argv[1]), sys.argv[2]
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Hook).serve_forever()
PY
PIDS+=($!)
prometheus-alertmanager --config.file="$W/alertmanager.yml" --storage.path="$W/am" \
  --web.listen-address="127.0.0.1:$AM" --cluster.listen-address= >"$W/am.log" 2>&1 &
PIDS+=($!)
env ABM_HOST=127.0.0.1 ABM_PORT="$ABM" ABM_JOB_STORE=memory ABM_DATA_DIR="$W/data" ABM_LOG_TARGET=stderr \
  RATE_LIMIT_ENABLED=false ABM_MAX_CONCURRENT_JOBS=1 ABM_MAX_QUEUED_JOBS=1 ABM_MAX_WORK_UNITS=1000000000000 \
  ABM_ALERT_RULES="$W/rules.yml" ABM_ALERT_EVAL_INTERVAL=1s ABM_ALERT_RESEND_INTERVAL=2s \
  ABM_ALERTMANAGER_URL="http://127.0.0.1:$AM" "$BIN" serve >"$W/abm.log" 2>&1 &
PIDS+=($!)
prometheus --config.file="$W/prometheus.yml" --storage.tsdb.path="$W/prom" \
  --web.listen-address="127.0.0.1:$PROM" >"$W/prom.log" 2>&1 &
PIDS+=($!)
wait_for "curl -sf http://127.0.0.1:$ABM/health/ready" 30 "service ready"
wait_for "curl -sf http://127.0.0.1:$AM/-/ready" 30 "alertmanager ready"
wait_for "curl -sf http://127.0.0.1:$PROM/-/ready" 30 "prometheus ready"
wait_for "alert_in http://127.0.0.1:$ABM/api/v1/alerts AbmHeartbeat" 10 "the service's heartbeat alert fires"
alert_in "http://127.0.0.1:$ABM/api/v1/alerts" AbmJobQueueFull && fail "AbmJobQueueFull fired before the queue filled"

# A Monte Carlo job over a million agents runs for minutes in a debug build: it holds the only slot (far
# over the default work budget, which is lifted above for it).
python3 - "$ROOT" "$W/mc.json" <<'PY'
import json, sys
b = [{"bucket": "B%d" % i, "allocation": 0.1, "tge_unlock_pct": 5, "cliff_months": i % 13, "vesting_months": 12 + i % 37} for i in range(1000)]
req = {"token": {"name": "Busy", "total_supply": 1e10, "start_date": "2026-01-01", "horizon_months": 60}, "buckets": b,
       "abm": {"agent_granularity": "meta_agents", "agents_per_cohort": 1000, "pricing_model": "eoe"}, "monte_carlo": {"num_trials": 1000}}
json.dump(req, open(sys.argv[2], "w"))
PY
submit() { curl -sf -X POST -H 'Content-Type: application/json' --data @"$W/mc.json" "http://127.0.0.1:$ABM/api/v2/abm/monte-carlo/simulate" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["job_id"])'; }
A=$(submit) || fail "submit A"
wait_for "curl -sf http://127.0.0.1:$ABM/api/v2/abm/jobs/$A/status | grep -q '\"status\":\"running\"'" 20 "job A running"
B=$(submit) || fail "submit B"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data @"$W/mc.json" "http://127.0.0.1:$ABM/api/v2/abm/monte-carlo/simulate")
[ "$code" = 429 ] || fail "a third submission got $code, not 429"
echo "ok: queue full, a third submission gets 429 ($(elapsed))"

wait_for "alert_in http://127.0.0.1:$ABM/api/v1/alerts AbmJobQueueFull" 30 "the service fires AbmJobQueueFull"
wait_for "curl -s 'http://127.0.0.1:$ABM/health?verbose' | grep -q 'firing: AbmJobQueueFull'" 10 "/health reports the critical alert (503 here: the full queue also fails readiness)"
wait_for "alert_in http://127.0.0.1:$PROM/api/v1/alerts AbmJobQueueFull" 40 "Prometheus fires AbmJobQueueFull"
wait_for "alert_in 'http://127.0.0.1:$AM/api/v2/alerts?active=true' AbmJobQueueFull" 30 "Alertmanager holds AbmJobQueueFull"
wait_for "grep -q AbmJobQueueFull '$W/hooks.jsonl'" 30 "the webhook receiver is notified"
wait_for "curl -sf http://127.0.0.1:$ABM/metrics | grep -Eq '^abm_alertmanager_alerts_sent_total [1-9]'" 10 "the service delivered to Alertmanager itself"
grep -q '"alert_state":"firing"' "$W/abm.log" || fail "no alert_state_change log line for firing"

curl -sf -X DELETE "http://127.0.0.1:$ABM/api/v2/abm/jobs/$B" >/dev/null || fail "cancel B"
echo "ok: waiting job cancelled ($(elapsed))"
wait_for "! alert_in http://127.0.0.1:$ABM/api/v1/alerts AbmJobQueueFull" 20 "the service resolves AbmJobQueueFull"
wait_for "! alert_in http://127.0.0.1:$PROM/api/v1/alerts AbmJobQueueFull" 30 "Prometheus resolves AbmJobQueueFull"
wait_for "! alert_in 'http://127.0.0.1:$AM/api/v2/alerts?active=true' AbmJobQueueFull" 30 "Alertmanager resolves AbmJobQueueFull"
wait_for "grep AbmJobQueueFull '$W/hooks.jsonl' | grep -q '\"status\":\"resolved\"'" 30 "the webhook receiver hears it resolved"
grep -q '"alert_state":"resolved"' "$W/abm.log" || fail "no alert_state_change log line for resolved"
curl -sf -X DELETE "http://127.0.0.1:$ABM/api/v2/abm/jobs/$A" >/dev/null || true
echo "PASS ($(elapsed))"
