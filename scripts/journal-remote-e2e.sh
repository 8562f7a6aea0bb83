#!/usr/bin/env bash
# Shipped logs, the Debian way, on loopback: a private systemd-journald holds the entries of a real
# `abm serve` (ABM_LOG_TARGET=journald); systemd-journal-upload sends them over HTTPS with a client
# certificate to HAProxy (ops/journal-remote/haproxy.cfg), which checks the certificate and forwards to
# systemd-journal-remote; `journalctl -D` on the receiving side finds the request by its REQUEST_ID, and by
# its TRACE_ID (tracing is on, exporting to a loopback port where nothing listens: spans are dropped, logs are not).
# Also: an upload without a client certificate is refused, and the upload's state file makes a second run
# send nothing twice. Needs root (journald runs in a private mount namespace, so the host's journal is
# untouched), systemd-journal-remote, haproxy and openssl (scripts/bootstrap installs them).
#   scripts/journal-remote-e2e.sh <abm binary> [base port]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$(readlink -f "${1:?usage: journal-remote-e2e.sh <abm binary> [base port]}")
BASE=${2:-18560}
W=$(mktemp -d)
. scripts/lib/checks.sh
cleanup() { stop_pids; rm -rf "$W"; }
trap cleanup EXIT
REMOTE=/lib/systemd/systemd-journal-remote
UPLOAD=/lib/systemd/systemd-journal-upload
for tool in "$REMOTE" "$UPLOAD" /usr/sbin/haproxy /usr/bin/openssl /lib/systemd/systemd-journald /usr/bin/unshare; do
  [ -x "$tool" ] || fail "$tool is missing (scripts/bootstrap installs it)"
done

# Certificates: a log CA, the log host's certificate for 127.0.0.1, and one host's client certificate.
cd "$W"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=abm log CA" -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
printf "subjectAltName=IP:127.0.0.1,DNS:localhost\n" >server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.pem 2>/dev/null
cat server.pem server.key >server-bundle.pem
openssl req -newkey rsa:2048 -nodes -subj "/CN=abm-host-1" -keyout client.key -out client.csr 2>/dev/null
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out client.pem 2>/dev/null
cd "$ROOT"
echo "ok: certificates made ($(elapsed))"

# The log host: journal-remote on loopback (plain HTTP), HAProxy in front with TLS and client certificates.
mkdir -p "$W/remote"
"$REMOTE" --listen-http=127.0.0.1:$((BASE + 1)) --output="$W/remote/" --split-mode=host >"$W/journal-remote.log" 2>&1 &
PIDS+=($!)
JR_BIND=127.0.0.1:$BASE JR_PEM="$W/server-bundle.pem" JR_CA="$W/ca.pem" JR_REMOTE=127.0.0.1:$((BASE + 1)) \
  haproxy -db -f ops/journal-remote/haproxy.cfg >"$W/haproxy.log" 2>&1 &
PIDS+=($!)
wait_for "(exec 3<>/dev/tcp/127.0.0.1/$BASE) 2>/dev/null" 10 "HAProxy accepts connections for the log host"

# The sending host, in a private mount namespace: journald, abm serve, one request, then the upload.
ID="ship-$(date +%s%N)"
TRACE=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
cat >"$W/host.sh" <<HOST
set -euo pipefail
mount -t tmpfs tmpfs /run/systemd && mount -t tmpfs tmpfs /run/log
mkdir -p /run/systemd/journald.conf.d
printf '[Journal]\nStorage=volatile\nReadKMsg=no\nRateLimitBurst=0\n' >/run/systemd/journald.conf.d/e2e.conf
/lib/systemd/systemd-journald & J=\$!
trap 'kill \$J 2>/dev/null || true; kill \${A:-0} 2>/dev/null || true' EXIT
for _ in \$(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
ABM_LOG_TARGET=journald ABM_HOST=127.0.0.1 ABM_PORT=$((BASE + 2)) ABM_DATA_DIR="$W/data" ABM_JOB_STORE=memory \
  ABM_ALERTING_ENABLED=false OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$((BASE + 3)) "$BIN" serve & A=\$!
for _ in \$(seq 100); do curl -sf http://127.0.0.1:$((BASE + 2))/health/ready >/dev/null && break; sleep 0.1; done
curl -sf -H "X-Request-ID: $ID" -H "traceparent: 00-$TRACE-00f067aa0ba902b7-01" http://127.0.0.1:$((BASE + 2))/openapi.json >/dev/null
kill -TERM \$A; wait \$A || true
upload() { "$UPLOAD" --url=https://127.0.0.1:$BASE --trust="$W/ca.pem" --save-state="$W/upload.state" --follow=no -D /run/log/journal "\$@"; }
# Without a client certificate: refused by HAProxy during the handshake.
if upload >"$W/upload-nocert.log" 2>&1; then echo "an upload without a client certificate was accepted"; exit 1; fi
upload --key="$W/client.key" --cert="$W/client.pem" >"$W/upload-1.log" 2>&1
# The state file holds the cursor: a second run sends nothing again.
upload --key="$W/client.key" --cert="$W/client.pem" >"$W/upload-2.log" 2>&1
HOST
unshare --mount --propagation private -- bash "$W/host.sh" >"$W/host.log" 2>&1 || fail "the sending host failed: $(tail -5 "$W/host.log")"
echo "ok: abm served a request with journald logging; an upload without a client certificate was refused ($(elapsed))"
grep -q "LAST_CURSOR=" "$W/upload.state" || fail "the upload kept no state file"
echo "ok: the upload kept its cursor in its state file"

entries() { journalctl -D "$W/remote" "$@" -o json --no-pager 2>/dev/null; }
wait_for "entries REQUEST_ID=$ID | grep -q 'request completed'" 10 "the request's log line arrived on the log host, found by REQUEST_ID"
LINE=$(entries REQUEST_ID="$ID" | grep 'request completed' | head -1)
for field in '"SYSLOG_IDENTIFIER":"abm"' '"ROUTE":"/openapi.json"' '"STATUS":"200"' '"PRIORITY":"6"'; do
  case "$LINE" in *"$field"*) ;; *) fail "the received entry lacks $field: $LINE" ;; esac
done
echo "ok: the received entry keeps its fields (identifier, route, status, priority)"
BYTRACE=$(entries TRACE_ID="$TRACE" | grep 'request completed' | head -1)
case "$BYTRACE" in *"\"REQUEST_ID\":\"$ID\""*) ;; *) fail "no entry found by TRACE_ID=$TRACE with the request's REQUEST_ID: $BYTRACE" ;; esac
case "$BYTRACE" in *"\"SPAN_ID\":\""*) ;; *) fail "the entry found by TRACE_ID=$TRACE has no SPAN_ID: $BYTRACE" ;; esac
echo "ok: the same line is found by TRACE_ID, with its REQUEST_ID and SPAN_ID"
COUNT=$(entries REQUEST_ID="$ID" | grep -c 'request completed')
[ "$COUNT" = 1 ] || fail "the request's line arrived $COUNT times (the second upload sent it again)"
echo "ok: the second upload sent nothing twice"
echo PASS
