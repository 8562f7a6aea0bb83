#!/usr/bin/env python3
"""Hostile and heavy clients against the real release binary, at default settings, over loopback.

For each case: the peak growth of resident memory over the case's start, the slowest /health/live answer
while it ran (a fresh connection every 100 ms), the largest gap between watchdog pings (the service runs with
WATCHDOG_USEC=10000000 and a real NOTIFY_SOCKET), the connections the server closed, and every status >= 500.

  abuse.py BINARY            # the full cases
  abuse.py BINARY --short    # CI: the same cases, fewer connections and repetitions
  abuse.py BINARY --measure  # report only, never fail (for a "before" run of an older binary)

Bounds (fail the run unless --measure): the largest accepted request grows memory by at most 256 MiB and
four at once by at most 512 MiB; /health/live never slower than 500 ms; watchdog gaps under 5 s; slow-header
connections closed within 60 s; no response >= 500; SIGTERM during work exits 0 within the shutdown timeout.
"""
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BIN = sys.argv[1]
SHORT = "--short" in sys.argv
MEASURE = "--measure" in sys.argv
PORT = int(os.environ.get("PORT", "18520"))
MIB = 1 << 20

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def buckets(n, alloc=None):
    a = alloc if alloc is not None else 100.0 / n
    return [{"bucket": "B%d" % i, "allocation": a, "tge_unlock_pct": 5, "cliff_months": 3, "vesting_months": 24} for i in range(n)]


def abm(n=1000, agents=1000, horizon=240, level="cohort", details=True):
    return json.dumps({"token": {"name": "A", "total_supply": 1e9, "start_date": "2026-01-01", "horizon_months": horizon},
                       "buckets": buckets(n), "abm": {"agents_per_cohort": agents, "seed": 1, "aggregation_level": level,
                                                      "store_cohort_details": details}}).encode()


def v1(n=1000, horizon=240, tier="tier3", trials=100):
    c = {"token": {"name": "V", "total_supply": 1000000, "start_date": "2026-01-01", "horizon_months": horizon,
                   "simulation_mode": tier, "allocation_mode": "percent"}, "buckets": buckets(n, 0.1)}
    if trials:
        c["tier3"] = {"monte_carlo": {"enabled": True, "num_trials": trials}}
    return json.dumps({"config": c}).encode()


def request(method, path, body=b"", timeout=120, read=True):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (method, path, len(body))
    s.sendall(head.encode() + body)
    if not read:
        return s
    data = bytearray()
    while True:
        try:
            chunk = s.recv(1 << 20)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        data += chunk
    s.close()
    line = bytes(data[:data.find(b"\r\n")]).decode(errors="replace")
    status = int(line.split(" ")[1]) if line.startswith("HTTP/") else 0
    return status, len(data)


class Probe:
    """Samples RSS, /health/live latency and watchdog gaps in the background; `window()` reads a case."""

    def __init__(self, pid, notify):
        self.pid, self.notify = pid, notify
        self.lock = threading.Lock()
        self.reset()
        self.pings = []
        self.running = True
        for f in (self.rss_loop, self.live_loop, self.watchdog_loop):
            threading.Thread(target=f, daemon=True).start()

    def rss(self):
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            return 0
        return 0

    def reset(self):
        with self.lock:
            self.base = self.rss()
            self.peak = self.base
            self.live_worst = 0.0
            self.live_failures = 0
            self.started = time.time()

    def rss_loop(self):
        while self.running:
            r = self.rss()
            with self.lock:
                self.peak = max(self.peak, r)
            time.sleep(0.02)

    def live_loop(self):
        while self.running:
            t = time.time()
            try:
                status, _ = request("GET", "/health/live", timeout=10)
                ok = status == 200
            except OSError:
                ok = False
            d = time.time() - t
            with self.lock:
                self.live_worst = max(self.live_worst, d)
                if not ok:
                    self.live_failures += 1
            time.sleep(0.1)

    def watchdog_loop(self):
        while self.running:
            try:
                msg = self.notify.recv(4096)
            except OSError:
                return
            if b"WATCHDOG=1" in msg:
                with self.lock:
                    self.pings.append(time.time())

    def window(self):
        with self.lock:
            # The pings of the case, and the last one before it: the gap that spans the start counts.
            before = [p for p in self.pings if p < self.started]
            pings = before[-1:] + [p for p in self.pings if p >= self.started]
            gaps = [b - a for a, b in zip(pings, pings[1:])]
            # The gap still open at the end counts too.
            if pings:
                gaps.append(time.time() - pings[-1])
            return {"rss_growth_mib": round((self.peak - self.base) / MIB, 1), "live_worst_ms": round(self.live_worst * 1000, 1),
                    "live_failures": self.live_failures, "watchdog_max_gap_s": round(max(gaps) if gaps else float("inf"), 2)}


def scrape():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    return data.decode(errors="replace").split("\n")


def metric(name, contains=""):
    """The sum of every series of `name` (a prefix) whose line contains `contains`."""
    total = 0.0
    for line in scrape():
        if line.startswith(name) and contains in line:
            try:
                total += float(line.rsplit(" ", 1)[1])
            except ValueError:
                pass
    return total


def main():
    work = tempfile.mkdtemp(prefix="abm-abuse-")
    notify_path = os.path.join(work, "notify.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    env = dict(os.environ, ABM_HOST="127.0.0.1", ABM_PORT=str(PORT), ABM_DATA_DIR=os.path.join(work, "data"),
               NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="10000000", RATE_LIMIT_ENABLED="false", ABM_ALERTING_ENABLED="true",
               ABM_LOG_TARGET="file", ABM_LOG_FILE=os.path.join(work, "abm.log"))
    env.pop("WATCHDOG_PID", None)
    server = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "stderr.log"), "w"))
    for _ in range(200):
        try:
            if request("GET", "/health/ready", timeout=2)[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.05)
    probe = Probe(server.pid, notify)
    # The first watchdog ping, so every case's gaps are measured from a real ping.
    deadline = time.time() + 15
    while not probe.pings and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(1)
    results = []
    failures = []

    def case(name, run, bounds):
        probe.reset()
        t = time.time()
        detail = run()
        time.sleep(0.5)
        row = {"case": name, "seconds": round(time.time() - t, 2)}
        row.update(probe.window())
        row.update(detail)
        results.append(row)
        print(json.dumps(row), flush=True)
        for key, limit in bounds.items():
            value = row.get(key)
            if value is None or value > limit:
                failures.append("%s: %s = %s (bound %s)" % (name, key, value, limit))
        if row["live_worst_ms"] > 500:
            failures.append("%s: /health/live took %s ms (bound 500)" % (name, row["live_worst_ms"]))
        if row["watchdog_max_gap_s"] >= 5:
            failures.append("%s: watchdog gap %s s (bound 5)" % (name, row["watchdog_max_gap_s"]))

    def statuses(results_list):
        bad = [s for s in results_list if s >= 500]
        return {"statuses": sorted(set(results_list)), "status_5xx": len(bad)}

    def parallel(n, f):
        out = [None] * n
        threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, f())) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out

    big = abm()

    def one_big():
        status, size = request("POST", "/api/v2/abm/simulate-sync", big)
        return dict(statuses([status]), response_mib=round(size / MIB, 1))

    case("largest accepted simulate-sync (1000 buckets x 1000 agents x 240 months, cohort details)", one_big,
         {"rss_growth_mib": 256, "status_5xx": 0})

    def four_big():
        r = parallel(4, lambda: request("POST", "/api/v2/abm/simulate-sync", big))
        return dict(statuses([s for s, _ in r]), response_mib=round(sum(n for _, n in r) / MIB, 1))

    case("four of them at once", four_big, {"rss_growth_mib": 512, "status_5xx": 0})

    def sampled():
        status, size = request("POST", "/api/v2/abm/simulate-sync", abm(level="sampled", details=False))
        return dict(statuses([status]), response_kib=round(size / 1024, 1))

    case("sampled snapshots of 1000 cohorts (448 MB of JSON before)", sampled, {"status_5xx": 0})

    def huge_validate():
        items = b",".join([b'{"bucket":"B","allocation":1}'] * 330_000)
        body = b'{"config":{"token":{},"buckets":[' + items + b"]}}"
        status, size = request("POST", "/api/v2/abm/validate", body)
        return dict(statuses([status]), request_mib=round(len(body) / MIB, 1), response_kib=round(size / 1024, 1))

    case("validate with a 10 MB list of bucket objects", huge_validate, {"rss_growth_mib": 256, "status_5xx": 0})

    def v1_mc():
        status, size = request("POST", "/api/v1/simulate", v1(trials=100))
        return dict(statuses([status]), response_mib=round(size / MIB, 1))

    case("v1 tier-3 Monte Carlo, 1000 buckets x 100 trials (22 s before)", v1_mc, {"rss_growth_mib": 256, "status_5xx": 0})

    def stalled_readers():
        # As many as there are simulation slots in the short run (one round of the write timeout).
        n = 2 if SHORT else 8
        socks = []
        for _ in range(n):
            s = request("POST", "/api/v1/simulate", v1(tier="tier1", trials=0), read=False)
            socks.append(s)
        # Past the write timeout (30 s) of the first round; later rounds wait for a slot, then stall in turn.
        time.sleep(35 * ((n + 1) // 2))
        cut = 0
        for s in socks:
            s.settimeout(30)
            tail = b""
            try:
                while True:
                    chunk = s.recv(1 << 20)
                    if not chunk:
                        break
                    tail = (tail + chunk)[-16:]
            except (ConnectionResetError, socket.timeout):
                pass
            s.close()
            # A whole chunked response ends with its last chunk; a cut one does not.
            if not tail.endswith(b"0\r\n\r\n"):
                cut += 1
        return {"readers": n, "cut_off_by_server": cut, "not_cut_off": n - cut}

    case("clients that never read a 65 MB result (8; 2 in --short)", stalled_readers, {"rss_growth_mib": 512, "not_cut_off": 0})

    def slow_headers():
        n = 500 if SHORT else 3000
        socks = []
        for _ in range(n):
            try:
                s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
                s.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                socks.append(s)
            except OSError:
                break
        start = time.time()
        open_socks = list(socks)
        while open_socks and time.time() - start < 90:
            still = []
            for s in open_socks:
                try:
                    s.setblocking(False)
                    if s.recv(1) == b"":
                        s.close()
                        continue
                    still.append(s)
                except BlockingIOError:
                    try:
                        s.send(b"a")
                        still.append(s)
                    except OSError:
                        s.close()
                except OSError:
                    s.close()
            open_socks = still
            time.sleep(1)
        for s in open_socks:
            s.close()
        return {"connections": len(socks), "all_closed_after_s": round(time.time() - start, 1), "left_open": len(open_socks)}

    case("slow-header connections (one byte a second, head never ends)", slow_headers, {"all_closed_after_s": 60, "left_open": 0})

    def aborted_uploads():
        errors_before = metric("abm_errors_total")
        seen = []
        for i in range(100):
            s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
            if i % 2:
                s.sendall(b"POST /api/v2/abm/simulate-sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"token\": {")
                s.shutdown(socket.SHUT_WR)
            else:
                s.sendall(b"POST /api/v2/abm/simulate-sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
            data = b""
            try:
                while True:
                    c = s.recv(65536)
                    if not c:
                        break
                    data += c
            except (ConnectionResetError, socket.timeout):
                pass
            s.close()
            if data.startswith(b"HTTP/"):
                seen.append(int(data.split(b" ")[1]))
        return dict(statuses(seen), error_budget_counted=metric("abm_errors_total") - errors_before)

    case("100 aborted or mis-framed uploads", aborted_uploads, {"status_5xx": 0, "error_budget_counted": 0})

    def at_the_fd_limit():
        # A second instance under a 512-file limit: it fits its connection cap to the limit (256 with the
        # reserve), so 600 clients leave the extra ones in the listen backlog instead of failing accept()
        # with EMFILE in a loop; its CPU stays idle and it serves again once they leave.
        port2 = PORT + 1
        env2 = dict(env, ABM_PORT=str(port2), ABM_DATA_DIR=os.path.join(work, "data2"), ABM_LOG_FILE=os.path.join(work, "abm2.log"))
        env2.pop("NOTIFY_SOCKET", None)
        env2.pop("WATCHDOG_USEC", None)
        limited = subprocess.Popen([BIN, "serve"], env=env2, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (512, 512)))
        try:
            for _ in range(200):
                try:
                    s = socket.create_connection(("127.0.0.1", port2), timeout=2)
                    s.close()
                    break
                except OSError:
                    time.sleep(0.05)
            socks = []
            for _ in range(600):
                try:
                    socks.append(socket.create_connection(("127.0.0.1", port2), timeout=5))
                except OSError:
                    break

            def cpu():
                with open("/proc/%d/stat" % limited.pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

            c0, t0 = cpu(), time.time()
            time.sleep(5)
            cpu_pct = 100 * (cpu() - c0) / (time.time() - t0)
            for s in socks:
                s.close()
            time.sleep(1)
            s = socket.create_connection(("127.0.0.1", port2), timeout=10)
            s.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = s.recv(100).split(b"\r\n", 1)[0].decode(errors="replace")
            s.close()
        finally:
            limited.terminate()
            limited.wait(timeout=30)
        return {"clients": len(socks), "cpu_percent_while_full": round(cpu_pct, 1), "after": answer,
                "not_serving_after": 0 if answer.startswith("HTTP/1.1 200") else 1}

    case("600 clients against a 512-file limit", at_the_fd_limit, {"cpu_percent_while_full": 20, "not_serving_after": 0})

    # Every answer the server gave in all the cases above, by its own count.
    served_5xx = metric("abm_http_requests_total{", 'status="5')
    print(json.dumps({"case": "all of the above", "responses_5xx": served_5xx}), flush=True)
    if served_5xx:
        failures.append("%d responses >= 500" % served_5xx)
    probe.reset()
    # SIGTERM while long synchronous work runs: its request gets 503 and the process exits 0 in time.
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(request("POST", "/api/v1/simulate", v1(trials=1000))[0])) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(2)
    t0 = time.time()
    server.send_signal(signal.SIGTERM)
    try:
        code = server.wait(timeout=40)
    except subprocess.TimeoutExpired:
        server.kill()
        code = "killed after 40 s"
    for t in threads:
        t.join(timeout=10)
    row = {"case": "SIGTERM during two 240M bucket-month v1 runs", "exit": code, "exit_after_s": round(time.time() - t0, 2),
           "statuses": sorted(answers)}
    results.append(row)
    print(json.dumps(row), flush=True)
    if code != 0 or row["exit_after_s"] > 25:
        failures.append("SIGTERM: exit %s after %s s (bound: 0 within 25 s)" % (code, row["exit_after_s"]))
    probe.running = False
    with open(os.environ.get("ABUSE_OUT", "/dev/null"), "w") as f:
        for r in results:
            f.write(json.dumps(r) + "\n")
    if failures and not MEASURE:
        print("abuse: FAIL:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("abuse: %s (%d cases)" % ("measured" if MEASURE else "PASS", len(results)))


main()
