#!/usr/bin/env python3
"""Several abm instances over one real PostgreSQL job store, one case per run. Each case prints "ok: ..."
lines and "PASS", or "FAIL: ..." with the tail of every log, and exits non-zero on failure.

    scripts/cluster-tests.py <abm binary> <base port> spread        submit on one; status, stream, cancel on the others
    scripts/cluster-tests.py <abm binary> <base port> kill-9        an instance dies mid-run: its jobs finish elsewhere
    scripts/cluster-tests.py <abm binary> <base port> sigstop       a paused instance's late writes are refused
    scripts/cluster-tests.py <abm binary> <base port> rolling       restart each instance behind HAProxy under load
    scripts/cluster-tests.py <abm binary> <base port> bound         the queue bound holds across instances

The PostgreSQL cluster (initdb as the postgres user, loopback only, base port), the instances (base port
+ 1, 2, 3) and HAProxy (base port + 9, its stats on + 8) are started here and stopped by PID on exit. benchmarks/cluster.sh
imports this file for the same set-up.
"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_BIN = next((d for d in ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")
               if os.path.exists(d + "/postgres")), None)


class Failure(Exception):
    pass


def ok(message):
    print("ok: " + message, flush=True)


class Cluster:
    """PostgreSQL, instances and HAProxy in a scratch folder; `close` stops each by its PID."""

    def __init__(self, binary, base_port):
        self.binary = os.path.realpath(binary)
        self.base = base_port
        self.work = tempfile.mkdtemp(prefix="abm-cluster-")
        os.chmod(self.work, 0o755)
        self.instances = {}   # n -> Popen
        self.others = []      # Popen of HAProxy and helpers
        self.pg_data = None
        self.database_url = None

    # --- PostgreSQL ---------------------------------------------------------------------------------
    def start_postgres(self):
        if PG_BIN is None:
            raise Failure("PostgreSQL is not installed (scripts/bootstrap installs it)")
        pg = os.path.join(self.work, "pg")
        os.makedirs(pg)
        shutil.chown(pg, "postgres", "postgres")
        self.pg_data = pg + "/data"
        # The postgres user may not be able to enter the caller's working directory: run from its own folder.
        run(["runuser", "-u", "postgres", "--", PG_BIN + "/initdb", "-D", self.pg_data, "-U", "abm", "--auth=trust", "-E", "UTF8"], cwd=pg)
        log = open(os.path.join(self.work, "postgres.log"), "w")
        # CLUSTER_PG_OPTIONS: more server settings, "name=value" separated by spaces (for example
        # "shared_preload_libraries=pg_stat_statements" to see where the server's time goes).
        extra = [a for o in os.environ.get("CLUSTER_PG_OPTIONS", "").split() for a in ("-c", o)]
        p = subprocess.Popen(
            ["runuser", "-u", "postgres", "--", PG_BIN + "/postgres", "-D", self.pg_data, "-p", str(self.base),
             "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + pg, "-c", "max_connections=200",
             "-c", "fsync=off"] + extra, stdout=log, stderr=log, cwd=pg)
        self.others.append(p)
        wait_for(lambda: subprocess.run([PG_BIN + "/pg_isready", "-q", "-U", "abm", "-h", "127.0.0.1", "-p", str(self.base)]).returncode == 0,
                 30, "PostgreSQL accepts connections")
        self.psql("CREATE DATABASE abm", database="postgres")
        self.database_url = "postgres://abm@127.0.0.1:%d/abm?sslmode=disable" % self.base

    def psql(self, sql, database="abm"):
        out = run([PG_BIN + "/psql", "-h", "127.0.0.1", "-p", str(self.base), "-U", "abm", "-d", database,
                   "-At", "-F", "|", "-c", sql])
        return [line.split("|") for line in out.splitlines() if line]

    # --- instances ----------------------------------------------------------------------------------
    def port(self, n):
        return self.base + n

    def start(self, n, **env):
        settings = {
            "ABM_HOST": "127.0.0.1", "ABM_PORT": str(self.port(n)), "ABM_DATA_DIR": os.path.join(self.work, "data%d" % n),
            "ABM_JOB_STORE": "postgres", "ABM_DATABASE_URL": self.database_url, "ABM_INSTANCE_ID": "abm-%d" % n,
            "RATE_LIMIT_ENABLED": "false", "ABM_LOG_TARGET": "stderr", "ABM_TRUSTED_PROXIES": "127.0.0.1",
        }
        settings.update({k: str(v) for k, v in env.items()})
        environment = {k: v for k, v in os.environ.items() if not k.startswith("ABM_") and k not in ("NOTIFY_SOCKET", "JOURNAL_STREAM")}
        environment.update(settings)
        log = open(os.path.join(self.work, "abm%d.log" % n), "a")
        p = subprocess.Popen([self.binary, "serve"], env=environment, stdout=log, stderr=log)
        self.instances[n] = p
        wait_for(lambda: status(self.port(n), "/health/ready") == 200, 60, "instance %d ready" % n, quiet=True)
        return p

    def stop(self, n, sig=signal.SIGTERM, wait=True):
        p = self.instances[n]
        p.send_signal(sig)
        if wait:
            p.wait(timeout=60)
        return p

    def haproxy(self, ports):
        env = dict(os.environ)
        env["ABM_LB_BIND"] = "127.0.0.1:%d" % (self.base + 9)
        env["ABM_LB_SOCKET"] = os.path.join(self.work, "haproxy.sock")
        env["ABM_LB_STATS_BIND"] = "127.0.0.1:%d" % (self.base + 8)
        for i, n in enumerate(ports, start=1):
            env["ABM_%d" % i] = "127.0.0.1:%d" % self.port(n)
        log = open(os.path.join(self.work, "haproxy.log"), "w")
        p = subprocess.Popen(["haproxy", "-db", "-f", os.path.join(ROOT, "ops/haproxy/haproxy.cfg")], env=env, stdout=log, stderr=log)
        self.others.append(p)
        wait_for(lambda: status(self.base + 9, "/health/ready") == 200, 30, "HAProxy forwards", quiet=True)
        return self.base + 9

    def close(self):
        for p in list(self.instances.values()) + self.others[1:]:
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGCONT)
                    p.terminate()
                except ProcessLookupError:
                    pass
        for p in list(self.instances.values()) + self.others[1:]:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.pg_data and os.path.exists(self.pg_data + "/postmaster.pid"):
            # The postmaster's own PID; SIGINT is PostgreSQL's fast shutdown.
            pid = int(open(self.pg_data + "/postmaster.pid").readline())
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                pass
            for _ in range(200):
                if not os.path.exists(self.pg_data + "/postmaster.pid"):
                    break
                time.sleep(0.05)
        for p in self.others[:1]:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()

    def logs(self):
        for name in sorted(os.listdir(self.work)):
            if name.endswith(".log"):
                lines = open(os.path.join(self.work, name), errors="replace").read().splitlines()[-25:]
                print("--- %s\n%s" % (name, "\n".join(lines)))


# --- HTTP ---------------------------------------------------------------------------------------------
def request(port, method, path, body=None, timeout=60, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = {"Content-Type": "application/json"} if body is not None else {}
        h.update(headers or {})
        c.request(method, path, body=body if body is None or isinstance(body, bytes) else body.encode(), headers=h)
        r = c.getresponse()
        data = r.read()
        return r.status, data
    finally:
        c.close()


def status(port, path):
    try:
        return request(port, "GET", path, timeout=5)[0]
    except OSError:
        return 0


def get_json(port, path):
    s, data = request(port, "GET", path)
    if s != 200:
        raise Failure("GET %s on %d: %d %s" % (path, port, s, data[:300]))
    return json.loads(data)


def metric(port, name):
    _, data = request(port, "GET", "/metrics")
    total = None
    for line in data.decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total = (total or 0) + float(line.rsplit(" ", 1)[1])
    return total


def body(seed, horizon=60, agents=1000, trials=None, buckets=2):
    """A simulation of `buckets` cohorts of `agents` agents over `horizon` months (the work grows with all three)."""
    b = {"token": {"name": "S", "total_supply": 1000000000, "start_date": "2026-01-01", "horizon_months": horizon},
         "buckets": [{"bucket": "B%d" % i, "allocation": 100.0 / buckets, "tge_unlock_pct": 5 * (i % 3), "cliff_months": i % 12,
                      "vesting_months": 12 + i % 36} for i in range(buckets)],
         "abm": {"agents_per_cohort": agents, "seed": seed}}
    if trials:
        b["monte_carlo"] = {"num_trials": trials}
    return json.dumps(b)


def submit(port, payload, path="/api/v2/abm/simulate"):
    s, data = request(port, "POST", path, payload)
    if s != 200:
        raise Failure("submit on %d: %d %s" % (port, s, data[:300]))
    return json.loads(data)["job_id"]


def job_status(port, job_id):
    return get_json(port, "/api/v2/abm/jobs/%s/status" % job_id)["status"]


def without_timing(result):
    result = dict(result)
    result.pop("execution_time_seconds", None)
    return result


# --- helpers ------------------------------------------------------------------------------------------
def run(argv, cwd=None):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd)
    if r.returncode != 0:
        raise Failure("%s failed: %s" % (" ".join(argv[:3]), r.stdout[-2000:]))
    return r.stdout


def wait_for(condition, seconds, description, quiet=False):
    start = time.time()
    while True:
        try:
            if condition():
                break
        except (OSError, Failure, ValueError, KeyError):
            pass
        if time.time() - start > seconds:
            raise Failure("timed out after %d s: %s" % (seconds, description))
        time.sleep(0.05)
    elapsed = time.time() - start
    if not quiet:
        ok("%s (%.2f s)" % (description, elapsed))
    return elapsed


def owner(cluster, job_id):
    rows = cluster.psql("SELECT lease_owner FROM jobs WHERE id = '%s' AND status = 'running'" % job_id)
    return rows[0][0] if rows and rows[0][0] else None


def read_stream(port, job_id, last_event_id=None, stop_after=None):
    """The (id, data) events of a job's progress stream, up to its done event or `stop_after` events."""
    headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", "/api/v2/abm/jobs/%s/stream" % job_id, headers=headers)
        r = conn.getresponse()
        if r.status != 200:
            raise Failure("stream on %d: %d" % (port, r.status))
        events = []
        for event in sse_events(r):
            if event[0] is None:
                continue
            events.append(event)
            if event[1].get("type") == "done" or (stop_after is not None and len(events) >= stop_after):
                break
        return events
    finally:
        conn.close()


def sse_events(response):
    """(id, data) for each event of a server-sent event stream, as its data line arrives; the id is None for
    an event without one (the shutdown event)."""
    current = None
    while True:
        line = response.readline()
        if not line:
            return
        line = line.decode().strip()
        if line.startswith("id: "):
            current = int(line[4:])
        elif line.startswith("data: "):
            yield current, json.loads(line[6:])
            current = None


def first_scrape_names_everything(port):
    """Every metric an alert rule, a runbook or the dashboard names is on the first scrape of a ready
    postgres-backed instance (ServeCommandTests checks the same for the embedded store)."""
    import re
    _, data = request(port, "GET", "/metrics")
    families = {line.split()[2] for line in data.decode().splitlines() if line.startswith("# TYPE ")}
    files = [os.path.join(ROOT, "alerts/abm.rules.yml"), os.path.join(ROOT, "ops/grafana/abm-service.json")]
    files += [os.path.join(ROOT, "runbooks", f) for f in os.listdir(os.path.join(ROOT, "runbooks")) if f.endswith(".md")]
    named = set()
    for f in files:
        for name in re.findall(r"abm_[a-z0-9_]+", open(f).read()):
            for suffix in ("_bucket", "_sum", "_count"):
                if name.endswith(suffix) and name not in families:
                    name = name[: -len(suffix)]
            named.add(name)
    missing = sorted(named - families)
    if missing or "abm_job_notify_connected" not in named:
        raise Failure("not on the first scrape of a postgres-backed instance: %s" % missing)
    ok("the first scrape of a postgres-backed instance has all %d metrics the alerts, runbooks and dashboard name" % len(named))


# --- cases --------------------------------------------------------------------------------------------
def case_spread(c):
    """Submit on one instance; status, progress stream, results and cancel through the others."""
    c.start_postgres()
    for n in (1, 2, 3):
        c.start(n, ABM_MAX_CONCURRENT_JOBS=1, ABM_MAX_WORK_UNITS=10 ** 12)
    a, b, cc = c.port(1), c.port(2), c.port(3)
    first_scrape_names_everything(a)
    job = submit(a, body(seed=7, horizon=120, agents=1000))
    # The stream is opened on the third instance while the job is queued or running elsewhere; after a few
    # progress events the client goes away and resumes on the second instance with Last-Event-ID.
    first = read_stream(cc, job, stop_after=3)
    if len(first) < 3:
        raise Failure("the stream on instance 3 ended early: %s" % first)
    last_id = first[-1][0]
    second = read_stream(b, job, last_event_id=last_id)
    events = [e for _, e in first + second]
    if not second or second[-1][1].get("type") != "done" or second[-1][1].get("status") != "completed":
        raise Failure("the resumed stream on instance 2 ended with %s" % (second[-1:] or "nothing"))
    ids = [i for i, _ in second]
    if ids != list(range(last_id + 1, last_id + 1 + len(ids))):
        raise Failure("the resumed stream skipped or repeated events: after id %d it sent %s" % (last_id, ids[:20]))
    months = [e.get("current_month") for e in events if e.get("type") == "progress" and "current_month" in e]
    ok("a stream on instance 3 followed a job submitted on instance 1; resumed on instance 2 with Last-Event-ID %d, "
       "it sent ids %d..%d with none skipped or repeated, to done (%d events, %d with progress)"
       % (last_id, ids[0], ids[-1], len(events), len(months)))
    if job_status(b, job) != "completed":
        raise Failure("instance 2 does not see the job completed")
    stored = json.loads(request(b, "GET", "/api/v2/abm/jobs/%s/results" % job)[1])
    s, fresh = request(cc, "POST", "/api/v2/abm/simulate-sync", body(seed=7, horizon=120, agents=1000))
    if s != 200 or without_timing(stored) != without_timing(json.loads(fresh)):
        raise Failure("the result read on instance 2 differs from a sync run on instance 3")
    ok("instance 2 reads the completed job and its result, identical to a sync run on instance 3")
    listed = [j["job_id"] for j in get_json(cc, "/api/v2/abm/jobs?limit=100")["jobs"]]
    if job not in listed:
        raise Failure("instance 3's job list lacks the job")
    ok("instance 3 lists the job")
    # Cancel: a long Monte Carlo study runs on some instance; it is cancelled through another.
    long_job = submit(a, body(seed=8, horizon=240, agents=1000, trials=1000), "/api/v2/abm/monte-carlo/simulate")
    wait_for(lambda: owner(c, long_job) is not None, 30, "the long job is running")
    runner = int(owner(c, long_job).split("-")[1])
    other = next(n for n in (1, 2, 3) if n != runner)
    t0 = time.time()
    s, data = request(c.port(other), "DELETE", "/api/v2/abm/jobs/%s" % long_job)
    if s != 200:
        raise Failure("cancel through instance %d: %d %s" % (other, s, data[:200]))
    wait_for(lambda: job_status(c.port(runner), long_job) == "cancelled", 10,
             "a cancel sent to instance %d stopped the job running on instance %d" % (other, runner))
    wait_for(lambda: c.psql("SELECT count(*) FROM jobs WHERE status = 'running'")[0][0] == "0", 10,
             "no run is left holding a lease", quiet=True)
    ok("cancel took %.2f s end to end" % (time.time() - t0))


def case_kill9(c):
    """kill -9 of an instance with a job running: the job completes on another within lease + 15 s, with the
    result a sync run gives, and no job is lost or run twice to completion."""
    lease = 5
    c.start_postgres()
    for n in (1, 2, 3):
        c.start(n, ABM_MAX_CONCURRENT_JOBS=1, ABM_JOB_LEASE_SECONDS=lease)
    jobs = {seed: submit(c.port(1 + seed % 3), body(seed=seed, horizon=240, agents=1000, buckets=200)) for seed in range(1, 7)}
    wait_for(lambda: owner(c, jobs[1]) is not None or job_status(c.port(2), jobs[1]) == "completed", 60,
             "the first job started")
    victim_job = next((j for j in jobs.values() if owner(c, j)), None)
    if victim_job is None:
        raise Failure("no job was running to be interrupted (they ran too fast)")
    victim = int(owner(c, victim_job).split("-")[1])
    t_kill = time.time()
    c.stop(victim, signal.SIGKILL)
    ok("killed instance %d (kill -9) while it ran job %s" % (victim, victim_job))
    survivor = c.port(next(n for n in (1, 2, 3) if n != victim))
    taken = wait_for(lambda: (owner(c, victim_job) or "abm-%d" % victim) != "abm-%d" % victim
                     or job_status(survivor, victim_job) == "completed", lease + 15,
                     "another instance took the interrupted job over")
    for seed, job in jobs.items():
        wait_for(lambda: job_status(survivor, job) in ("completed", "failed"), 180, "job %d finished" % seed, quiet=True)
        if job_status(survivor, job) != "completed":
            raise Failure("job %s failed: %s" % (job, get_json(survivor, "/api/v2/abm/jobs/%s/status" % job)))
        stored = json.loads(request(survivor, "GET", "/api/v2/abm/jobs/%s/results" % job)[1])
        s, fresh = request(survivor, "POST", "/api/v2/abm/simulate-sync", body(seed=seed, horizon=240, agents=1000, buckets=200))
        if s != 200 or without_timing(stored) != without_timing(json.loads(fresh)):
            raise Failure("job %s differs from a sync run" % job)
    # Committed once: one stored result per job (a second completion would have left a second one).
    committed = int(c.psql("SELECT count(*) FROM results WHERE staged_lease IS NULL")[0][0])
    if committed != len(jobs):
        raise Failure("%d results committed for %d jobs" % (committed, len(jobs)))
    rescues = c.psql("SELECT rescues FROM jobs WHERE id = '%s'" % victim_job)[0][0]
    ok("all 6 jobs completed (the interrupted one rescued %s time(s), taken over %.1f s after the kill, lease %d s), "
       "each identical to a sync run and committed once; %.1f s in all" % (rescues, taken, lease, time.time() - t_kill))


def case_sigstop(c):
    """An instance paused past its lease loses the job to another; when it resumes, its late writes are
    refused (fenced) and counted, and the job ends once, with the other instance's result."""
    lease = 3
    c.start_postgres()
    for n in (1, 2):
        c.start(n, ABM_MAX_CONCURRENT_JOBS=1, ABM_JOB_LEASE_SECONDS=lease)
    job = submit(c.port(1), body(seed=11, horizon=240, agents=1000, buckets=200))
    wait_for(lambda: owner(c, job) is not None, 30, "the job is running")
    paused = int(owner(c, job).split("-")[1])
    other = 3 - paused
    before = (metric(c.port(paused), "abm_job_fenced_writes_total") or 0) + (metric(c.port(paused), "abm_job_leases_lost_total") or 0)
    c.instances[paused].send_signal(signal.SIGSTOP)
    ok("paused instance %d (SIGSTOP) while it ran the job" % paused)
    wait_for(lambda: owner(c, job) == "abm-%d" % other or job_status(c.port(other), job) == "completed", lease + 15,
             "instance %d took the job over once the lease expired" % other)
    c.instances[paused].send_signal(signal.SIGCONT)
    wait_for(lambda: (metric(c.port(paused), "abm_job_fenced_writes_total") or 0)
             + (metric(c.port(paused), "abm_job_leases_lost_total") or 0) > before, 30,
             "the resumed instance %d found its lease lost and counted it" % paused)
    wait_for(lambda: job_status(c.port(other), job) == "completed", 120, "the job completed", quiet=True)
    stored = json.loads(request(c.port(paused), "GET", "/api/v2/abm/jobs/%s/results" % job)[1])
    s, fresh = request(c.port(other), "POST", "/api/v2/abm/simulate-sync", body(seed=11, horizon=240, agents=1000, buckets=200))
    if s != 200 or without_timing(stored) != without_timing(json.loads(fresh)):
        raise Failure("the stored result differs from a sync run")
    results = c.psql("SELECT count(*) FROM results WHERE staged_lease IS NULL")[0][0]
    staged = c.psql("SELECT count(*) FROM results WHERE staged_lease IS NOT NULL")[0][0]
    ok("the job completed once with the result a sync run gives (%s stored result, %s staged left); fenced writes %s, "
       "leases lost %s on instance %d" % (results, staged, metric(c.port(paused), "abm_job_fenced_writes_total"),
                                          metric(c.port(paused), "abm_job_leases_lost_total"), paused))


def case_rolling(c):
    """Each instance in turn gets SIGTERM and comes back, behind HAProxy, while clients keep sending
    simulations and job submissions: no request fails."""
    c.start_postgres()
    for n in (1, 2, 3):
        c.start(n, ABM_SHUTDOWN_DRAIN_DELAY_SECONDS=2, ABM_MAX_QUEUED_JOBS=1000, ABM_MAX_QUEUED_JOBS_PER_CLIENT=1000)
    lb = c.haproxy((1, 2, 3))
    small = open(os.path.join(ROOT, "Tests/SimulationTests/Fixtures/requests/abm-sync-small.json")).read()
    stop = threading.Event()
    outcomes = []
    lock = threading.Lock()
    submitted = []

    def client(k):
        i = 0
        conn = None
        while not stop.is_set():
            i += 1
            if i % 4 == 0:
                method, path, payload = "POST", "/api/v2/abm/simulate", body(seed=10000 * k + i, horizon=12, agents=50)
            elif i % 4 == 1 and submitted:
                method, path, payload = "GET", "/api/v2/abm/jobs/%s/status" % submitted[-1], None
            else:
                method, path, payload = "POST", "/api/v2/abm/simulate-sync", small
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", lb, timeout=30)
                conn.request(method, path, body=payload, headers={"Content-Type": "application/json"} if payload else {})
                r = conn.getresponse()
                data = r.read()
                result = r.status
                if r.status == 200 and path == "/api/v2/abm/simulate":
                    submitted.append(json.loads(data)["job_id"])
                if r.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                result = "error %s" % type(e).__name__
                conn.close()
                conn = None
            with lock:
                outcomes.append((time.time(), method + " " + path.split("/")[-1], result))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    time.sleep(2)
    for n in (1, 2, 3):
        t0 = time.time()
        c.stop(n)
        c.start(n, ABM_SHUTDOWN_DRAIN_DELAY_SECONDS=2, ABM_MAX_QUEUED_JOBS=1000, ABM_MAX_QUEUED_JOBS_PER_CLIENT=1000)
        ok("instance %d restarted (%.1f s from SIGTERM to ready)" % (n, time.time() - t0))
        # Back in HAProxy's rotation (two passed checks) before the next one goes.
        time.sleep(1.5)
    time.sleep(1)
    stop.set()
    for t in threads:
        t.join()
    failed = [o for o in outcomes if o[2] != 200]
    if failed:
        raise Failure("%d of %d requests failed during the rolling restart, first: %s" % (len(failed), len(outcomes), failed[:5]))
    ok("%d requests through HAProxy during the rolling restart of 3 instances, every one 200" % len(outcomes))
    _, exported = request(c.base + 8, "GET", "/metrics")
    up = [l for l in exported.decode().splitlines() if l.startswith('haproxy_server_status{proxy="abm"') and 'state="UP"' in l]
    if len(up) != 3 or not all(l.endswith(" 1") for l in up):
        raise Failure("HAProxy's exporter does not show the 3 servers up: %s" % up)
    ok("HAProxy's Prometheus exporter shows the 3 instances up again")
    for job in submitted[-20:]:
        wait_for(lambda: job_status(lb, job) == "completed", 60, "job %s completed" % job, quiet=True)
    ok("the %d jobs submitted during the restart completed (the last 20 checked)" % len(submitted))


def case_bound(c):
    """The queue bound is one bound for the cluster: 60 submissions at once, spread over 3 instances whose
    workers are busy, admit no more than the bound."""
    bound = 10
    c.start_postgres()
    for n in (1, 2, 3):
        c.start(n, ABM_MAX_CONCURRENT_JOBS=1, ABM_MAX_QUEUED_JOBS=bound, ABM_MAX_QUEUED_JOBS_PER_CLIENT=1000,
                ABM_MAX_WORK_UNITS=10 ** 12)
    # A long study holds each instance's only worker.
    for n in (1, 2, 3):
        submit(c.port(n), body(seed=900 + n, horizon=240, agents=1000, trials=1000), "/api/v2/abm/monte-carlo/simulate")
    wait_for(lambda: c.psql("SELECT count(*) FROM jobs WHERE status = 'running'")[0][0] == "3", 30, "each instance runs one long study")
    barrier = threading.Barrier(60)
    codes = []
    lock = threading.Lock()
    peak = [0]

    def one(k):
        payload = body(seed=k, horizon=24, agents=100)
        barrier.wait()
        s, _ = request(c.port(1 + k % 3), "POST", "/api/v2/abm/simulate", payload)
        with lock:
            codes.append(s)

    def sample():
        while len(codes) < 60:
            peak[0] = max(peak[0], int(c.psql("SELECT count(*) FROM jobs WHERE status = 'pending'")[0][0]))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=one, args=(k,)) for k in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sampler.join()
    accepted, refused = codes.count(200), codes.count(429)
    if accepted + refused != 60:
        raise Failure("unexpected answers: %s" % sorted(set(codes)))
    pending = int(c.psql("SELECT count(*) FROM jobs WHERE status = 'pending'")[0][0])
    if accepted != bound or pending != bound or peak[0] > bound:
        raise Failure("%d admitted, %d pending (peak %d), bound %d" % (accepted, pending, peak[0], bound))
    ok("60 concurrent submissions over 3 instances: %d admitted, %d refused with 429; pending never above %d (peak %d)"
       % (accepted, refused, bound, peak[0]))
    stats = get_json(c.port(2), "/api/v2/abm/queue/stats")
    ok("queue stats on instance 2: %s" % json.dumps(stats, sort_keys=True))


CASES = {"spread": case_spread, "kill-9": case_kill9, "sigstop": case_sigstop, "rolling": case_rolling, "bound": case_bound}


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in CASES:
        print(__doc__)
        sys.exit(2)
    cluster = Cluster(sys.argv[1], int(sys.argv[2]))
    try:
        CASES[sys.argv[3]](cluster)
        print("PASS", flush=True)
    except (Failure, AssertionError, OSError, subprocess.TimeoutExpired) as e:
        print("FAIL: %s" % e, flush=True)
        cluster.logs()
        sys.exit(1)
    finally:
        cluster.close()
        shutil.rmtree(cluster.work, ignore_errors=True)


if __name__ == "__main__":
    main()
