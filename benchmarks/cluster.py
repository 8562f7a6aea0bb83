#!/usr/bin/env python3
"""Several instances over one local PostgreSQL (benchmarks/cluster.sh runs this on a release build).

Prints one JSON line per figure (also appended to benchmarks/out/cluster.jsonl):
  throughput   no-op-sized jobs claimed, run and completed per second with 1, 2 and 4 instances: JOBS
               pending jobs are written to the store while no instance runs, then the instances start and
               drain them; the rate is taken between 10% and 90% done (start-up excluded)
  pickup       seconds from submission to claim for jobs submitted on an instance whose worker is busy, so
               another instance claims them: with LISTEN/NOTIFY, and with polling only (ABM_JOB_NOTIFY=false)
  rescue       seconds from kill -9 of the instance running a job to that job running elsewhere
  sse          how much later a progress event reaches a stream on another instance than a stream on the
               instance running the job
Usage: benchmarks/cluster.py <abm binary> [--short]
"""
import importlib.util
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import http.client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location("cluster_tests", os.path.join(ROOT, "scripts/cluster-tests.py"))
ct = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ct)

SHORT = "--short" in sys.argv
JOBS = int(os.environ.get("JOBS", "3000" if SHORT else "20000"))
PICKUPS = int(os.environ.get("PICKUPS", "50" if SHORT else "300"))
OUT = os.path.join(ROOT, "benchmarks/out/cluster.jsonl")
BASE = int(os.environ.get("PORT", "18900"))
# Workers per instance for the throughput runs (ABM_MAX_CONCURRENT_JOBS, default 5 as in the service).
WORKERS = int(os.environ.get("WORKERS", "5"))
TINY = ct.body(seed=1, horizon=1, agents=1, buckets=1)


def emit(record):
    line = json.dumps(record, sort_keys=True)
    print(line, flush=True)
    with open(OUT, "a") as f:
        f.write(line + "\n")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def counts(c):
    rows = c.psql("SELECT status, n FROM job_counts")
    return {r[0]: int(r[1]) for r in rows}


def postgres_cpu():
    """CPU seconds used so far by the processes of the postgres user (the server and its backends)."""
    import pwd
    uid = pwd.getpwnam("postgres").pw_uid
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat("/proc/" + pid).st_uid != uid:
                continue
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError):
            pass
    return total


def throughput(binary, instances):
    c = ct.Cluster(binary, BASE)
    try:
        c.start_postgres()
        c.start(1)
        template = ct.submit(c.port(1), TINY)
        ct.wait_for(lambda: ct.job_status(c.port(1), template) == "completed", 30, "template job", quiet=True)
        c.stop(1)
        # JOBS copies of the template, pending, as admission would have written them (distinct ids and seeds).
        c.psql("""
            INSERT INTO jobs (id, kind, status, created_at, total_months, seed, cache_key, cached, client)
            SELECT 'bench_' || g, kind, 'pending', extract(epoch FROM clock_timestamp()), total_months, seed + g, NULL, false, client
            FROM jobs, generate_series(1, %d) g WHERE id = '%s';
            INSERT INTO job_requests (job_id, body) SELECT 'bench_' || g, body FROM job_requests, generate_series(1, %d) g
            WHERE job_id = '%s';
            """ % (JOBS, template, JOBS, template))
        c.psql("VACUUM ANALYZE jobs")
        done0 = counts(c).get("completed", 0)
        pg0 = postgres_cpu()
        marks = {}
        t0 = time.time()
        for n in range(1, instances + 1):
            threading.Thread(target=c.start, args=(n,), kwargs={"LOG_LEVEL": "WARNING", "ABM_MAX_CONCURRENT_JOBS": WORKERS}).start()
        while True:
            done = counts(c).get("completed", 0) - done0
            now = time.time()
            for frac in (0.1, 0.9, 1.0):
                if frac not in marks and done >= frac * JOBS:
                    marks[frac] = now
            if 1.0 in marks or now - t0 > 600:
                break
            # Each poll is a psql process: rarely enough not to take the cores being measured.
            time.sleep(0.1)
        pg_cpu = postgres_cpu() - pg0
        failed = counts(c).get("failed", 0)
        rate = 0.8 * JOBS / (marks[0.9] - marks[0.1])
        cpu = {}
        for n, p in c.instances.items():
            with open("/proc/%d/stat" % p.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu[n] = round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)
        emit({"figure": "throughput", "instances": instances, "jobs": JOBS, "jobs_per_s": round(rate),
              "all_done_s": round(marks[1.0] - t0, 2), "failed": failed, "workers_per_instance": WORKERS, "cpu_s_per_instance": cpu,
              "postgres_cpu_s": round(pg_cpu, 2)})
    finally:
        c.close()


def pickup(binary, notify):
    c = ct.Cluster(binary, BASE)
    try:
        c.start_postgres()
        env = {"ABM_JOB_NOTIFY": "true" if notify else "false", "ABM_MAX_WORK_UNITS": 10 ** 12, "ABM_MAX_QUEUED_JOBS": 100000,
               "ABM_MAX_QUEUED_JOBS_PER_CLIENT": 100000, "LOG_LEVEL": "WARNING"}
        # Instance 1's only worker is busy (it started alone), so what is submitted there is claimed by instance 2.
        c.start(1, ABM_MAX_CONCURRENT_JOBS=1, **env)
        # A study long enough (minutes) to hold the worker for the whole measurement; checked at the end.
        study = ct.submit(c.port(1), ct.body(seed=5, horizon=240, agents=1000, trials=1000, buckets=50), "/api/v2/abm/monte-carlo/simulate")
        ct.wait_for(lambda: ct.owner(c, study) == "abm-1", 30, "instance 1 busy", quiet=True)
        c.start(2, **env)
        time.sleep(1)
        ids = []
        for i in range(PICKUPS):
            ids.append(ct.submit(c.port(1), ct.body(seed=100 + i, horizon=1, agents=1, buckets=1)))
            time.sleep(0.02)
        listed = ",".join("'%s'" % i for i in ids)
        ct.wait_for(lambda: int(c.psql("SELECT count(*) FROM jobs WHERE id IN (%s) AND status = 'completed'" % listed)[0][0]) >= PICKUPS,
                    120, "all picked up", quiet=True)
        if ct.owner(c, study) != "abm-1":
            raise ct.Failure("the study ended before the pickups did: instance 1 was not busy throughout")
        rows = c.psql("SELECT started_at - created_at FROM jobs WHERE id IN (%s)" % listed)
        waits = [float(r[0]) for r in rows]
        emit({"figure": "pickup", "notify": notify, "jobs": len(waits), "p50_ms": round(1000 * percentile(waits, 50), 1),
              "p99_ms": round(1000 * percentile(waits, 99), 1), "max_ms": round(1000 * max(waits), 1),
              "poll_interval_ms": 1000})
    finally:
        c.close()


def rescue(binary):
    lease = 30
    c = ct.Cluster(binary, BASE)
    try:
        c.start_postgres()
        for n in (1, 2):
            c.start(n, ABM_MAX_CONCURRENT_JOBS=1, ABM_JOB_LEASE_SECONDS=lease, ABM_MAX_WORK_UNITS=10 ** 12, LOG_LEVEL="WARNING")
        job = ct.submit(c.port(1), ct.body(seed=9, horizon=240, agents=1000, trials=1000), "/api/v2/abm/monte-carlo/simulate")
        ct.wait_for(lambda: ct.owner(c, job) is not None, 30, "running", quiet=True)
        victim = int(ct.owner(c, job).split("-")[1])
        t0 = time.time()
        c.stop(victim, signal.SIGKILL)
        other = "abm-%d" % (3 - victim)
        ct.wait_for(lambda: ct.owner(c, job) == other, lease + 60, "rescued", quiet=True)
        emit({"figure": "rescue", "lease_s": lease, "rescued_after_s": round(time.time() - t0, 2), "bound_s": lease + 15})
    finally:
        c.close()


def sse(binary):
    c = ct.Cluster(binary, BASE)
    try:
        c.start_postgres()
        for n in (1, 2):
            c.start(n, ABM_MAX_CONCURRENT_JOBS=1, ABM_MAX_WORK_UNITS=10 ** 12, LOG_LEVEL="WARNING")
        # A job that runs for some seconds on one instance, with a stream on each instance.
        job = ct.submit(c.port(1), ct.body(seed=3, horizon=240, agents=1000, buckets=400))
        ct.wait_for(lambda: ct.owner(c, job) is not None, 30, "running", quiet=True)
        runner = int(ct.owner(c, job).split("-")[1])
        seen = {}

        def follow(n):
            conn = http.client.HTTPConnection("127.0.0.1", c.port(n), timeout=120)
            conn.request("GET", "/api/v2/abm/jobs/%s/stream" % job)
            for event_id, data in ct.sse_events(conn.getresponse()):
                seen.setdefault(event_id, {})[n] = time.time()
                if data.get("status") in ("completed", "failed", "cancelled"):
                    break
            conn.close()

        threads = [threading.Thread(target=follow, args=(n,)) for n in (runner, 3 - runner)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        delays = [v[3 - runner] - v[runner] for v in seen.values() if len(v) == 2]
        emit({"figure": "sse", "events_both": len(delays), "events_remote": sum(1 for v in seen.values() if 3 - runner in v),
              "events_local": sum(1 for v in seen.values() if runner in v),
              "p50_ms": round(1000 * percentile(delays, 50), 1), "p99_ms": round(1000 * percentile(delays, 99), 1)})
    finally:
        c.close()


def main():
    binary = sys.argv[1]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    only = os.environ.get("ONLY", "throughput,pickup,rescue,sse").split(",")
    if "throughput" in only:
        for n in (1, 2, 4):
            throughput(binary, n)
    if "pickup" in only:
        pickup(binary, True)
        pickup(binary, False)
    if "rescue" in only:
        rescue(binary)
    if "sse" in only:
        sse(binary)


if __name__ == "__main__":
    main()
