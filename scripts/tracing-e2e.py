#!/usr/bin/env python3
"""Tracing end to end: the real binary exporting OTLP/HTTP (protobuf) to a small receiver that decodes every
request with the official opentelemetry-proto package. Prints "ok: ..." lines and "PASS", or "FAIL: ..." with
the tail of the service's log, and exits non-zero on failure. Run with the project's venv (scripts/python-tools):

    .tools/venv/bin/python scripts/tracing-e2e.py <abm binary> <base port>

The receiver listens on <base port>, the service on <base port> + 1; both are stopped by PID (the service) or
closed (the receiver, a thread of this process) on exit.
"""
import http.client
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2


class Failure(Exception):
    pass


def ok(message):
    print("ok: " + message, flush=True)


class Receiver:
    """An OTLP/HTTP traces endpoint: POST /v1/traces with application/x-protobuf, answered as a collector does."""

    def __init__(self, port):
        self.port = port
        self.spans = []  # (resource attributes, span)
        self.requests = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
                    self.send_response(415 if self.path == "/v1/traces" else 404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                request = trace_service_pb2.ExportTraceServiceRequest()
                request.ParseFromString(body)
                with receiver.lock:
                    receiver.requests += 1
                    for rs in request.resource_spans:
                        resource = {a.key: value(a.value) for a in rs.resource.attributes}
                        for ss in rs.scope_spans:
                            for span in ss.spans:
                                receiver.spans.append((resource, span))
                out = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def find(self, predicate, timeout=15, what="a span"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                found = [s for r, s in self.spans if predicate(s)]
            if found:
                return found
            time.sleep(0.1)
        with self.lock:
            names = sorted({s.name for _, s in self.spans})
        raise Failure("no %s reached the receiver in %ds (span names seen: %s)" % (what, timeout, names))

    def resource_of(self, span):
        with self.lock:
            return next(r for r, s in self.spans if s is span)


def value(v):
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


def attrs(span):
    return {a.key: value(a.value) for a in span.attributes}


class Service:
    def __init__(self, binary, port, receiver_port, work):
        self.binary, self.port, self.work = binary, port, work
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("OTEL_") or k.startswith("ABM_") or k in ("LOG_LEVEL", "NOTIFY_SOCKET", "WATCHDOG_USEC"):
                del self.env[k]
        self.env.update({
            "ABM_HOST": "127.0.0.1", "ABM_PORT": str(port), "ABM_DATA_DIR": work + "/data", "ABM_LOG_TARGET": "stderr",
            "ABM_ALERTING_ENABLED": "false", "ABM_JOB_LEASE_SECONDS": "2", "ABM_SHUTDOWN_DRAIN_DELAY_SECONDS": "0",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:%d" % receiver_port, "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "1000", "OTEL_BSP_EXPORT_TIMEOUT": "2000",
        })
        self.proc = None
        self.log_path = work + "/abm.log"

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "serve"], env=self.env, stdout=log, stderr=log)
        log.close()
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Failure("the service exited with %s at start" % self.proc.returncode)
            try:
                if request(self.port, "GET", "/api/v1/health/ready", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise Failure("the service did not become ready")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_lines(self):
        out = []
        with open(self.log_path, "rb") as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out


def request(port, method, path, body=None, headers=None, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = {"Content-Type": "application/json"} if body is not None else {}
        h.update(headers or {})
        c.request(method, path, body=body.encode() if isinstance(body, str) else body, headers=h)
        r = c.getresponse()
        data = r.read()
        return r.status, data, {k.lower(): v for k, v in r.getheaders()}
    finally:
        c.close()


def body(seed, horizon=60, agents=1000, buckets=2):
    b = {"token": {"name": "S", "total_supply": 1000000000, "start_date": "2026-01-01", "horizon_months": horizon},
         "buckets": [{"bucket": "B%d" % i, "allocation": 100.0 / buckets, "tge_unlock_pct": 5 * (i % 3), "cliff_months": i % 12,
                      "vesting_months": 12 + i % 36} for i in range(buckets)],
         "abm": {"agents_per_cohort": agents, "seed": seed}}
    return json.dumps(b)


def metric(port, name):
    total = 0.0
    for line in request(port, "GET", "/metrics")[1].decode().split("\n"):
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def wait_status(port, job, wanted, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = json.loads(request(port, "GET", "/api/v2/abm/jobs/%s/status" % job)[1])
        if s["status"] in wanted:
            return s
        time.sleep(0.05)
    raise Failure("job %s did not reach %s" % (job, wanted))


TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


def run(binary, base):
    work = tempfile.mkdtemp(prefix="abm-tracing-")
    receiver = Receiver(base)
    svc = Service(binary, base + 1, base, work)
    try:
        svc.start()
        port = svc.port

        # 1. A server span per request, child of the incoming traceparent; the response carries the span's traceparent.
        s, _, h = request(port, "GET", "/api/v2/abm/queue/stats", headers={"traceparent": "00-%s-%s-01" % (TRACE, PARENT),
                                                                            "tracestate": "vendor=abc"})
        tp = h.get("traceparent", "")
        if s != 200 or not tp.startswith("00-" + TRACE + "-") or tp.split("-")[2] == PARENT:
            raise Failure("response traceparent %r does not continue trace %s with a span of its own" % (tp, TRACE))
        span = receiver.find(lambda x: x.trace_id.hex() == TRACE and x.kind == trace_pb2.Span.SPAN_KIND_SERVER, what="server span")[0]
        a = attrs(span)
        if span.parent_span_id.hex() != PARENT or span.span_id.hex() != tp.split("-")[2]:
            raise Failure("server span parent %s / id %s, wanted %s / %s" % (span.parent_span_id.hex(), span.span_id.hex(), PARENT, tp.split("-")[2]))
        if span.name != "GET /api/v2/abm/queue/stats" or a.get("http.route") != "/api/v2/abm/queue/stats" or a.get("http.response.status_code") != 200 \
                or a.get("http.request.method") != "GET" or span.status.code == trace_pb2.Status.STATUS_CODE_ERROR:
            raise Failure("server span %s %s status %s" % (span.name, a, span.status))
        if span.trace_state != "vendor=abc":
            raise Failure("tracestate %r was not kept" % span.trace_state)
        resource = receiver.resource_of(span)
        if resource.get("service.name") != "abm-service" or not resource.get("service.version"):
            raise Failure("resource %s" % resource)
        ok("server span 'GET /api/v2/abm/queue/stats' is a child of the incoming traceparent, keeps its tracestate, and the "
           "response's traceparent names it")

        # 2. A malformed traceparent is dropped before the tracer: a new trace, no extraction warning with the headers.
        s, _, h = request(port, "GET", "/", headers={"traceparent": "00-XYZ-notatrace-01", "authorization": "Bearer secret-token"})
        tp = h.get("traceparent", "")
        if s != 200 or len(tp) != 55 or TRACE in tp:
            raise Failure("a malformed traceparent gave %r" % tp)
        receiver.find(lambda x: x.trace_id.hex() == tp.split("-")[1], what="span of the new trace")
        # 3. A 404 is not an error on a server span; the access log line of a request carries its trace and span ids.
        s, _, h = request(port, "GET", "/no/such/path")
        missing = receiver.find(lambda x: x.trace_id.hex() == h["traceparent"].split("-")[1], what="404 span")[0]
        if s != 404 or missing.status.code == trace_pb2.Status.STATUS_CODE_ERROR or attrs(missing).get("http.response.status_code") != 404:
            raise Failure("a 404 was marked as an error: %s" % missing.status)
        ok("a malformed traceparent starts a new trace; a 404 is not an error on its span")

        # 4. A job: producer span in the request's trace, trace_id in the status body, a consumer run span linked to it
        # with the job id and attempt, and child spans for its phases.
        s, data, h = request(port, "POST", "/api/v2/abm/simulate", body(seed=5, horizon=24, agents=50),
                             headers={"traceparent": "00-%s-%s-01" % (TRACE, PARENT)})
        if s != 200:
            raise Failure("submission answered %s %s" % (s, data[:200]))
        job = json.loads(data)["job_id"]
        st = wait_status(port, job, ("completed",))
        if st.get("trace_id") != TRACE:
            raise Failure("status body trace_id %r, wanted %s" % (st.get("trace_id"), TRACE))
        producer = receiver.find(lambda x: x.kind == trace_pb2.Span.SPAN_KIND_PRODUCER and attrs(x).get("abm.job.id") == job,
                                 what="producer span")[0]
        if producer.trace_id.hex() != TRACE:
            raise Failure("the producer span is in trace %s" % producer.trace_id.hex())
        run_span = receiver.find(lambda x: x.kind == trace_pb2.Span.SPAN_KIND_CONSUMER and attrs(x).get("abm.job.id") == job,
                                 what="consumer span")[0]
        links = [(l.trace_id.hex(), l.span_id.hex()) for l in run_span.links]
        if (TRACE, producer.span_id.hex()) not in links or attrs(run_span).get("abm.job.attempt") != 1:
            raise Failure("run span links %s, attributes %s" % (links, attrs(run_span)))
        children = receiver.find(lambda x: x.parent_span_id == run_span.span_id and x.trace_id == run_span.trace_id, what="phase spans")
        time.sleep(0.5)
        children = {x.name for x in receiver.find(lambda x: x.parent_span_id == run_span.span_id and x.trace_id == run_span.trace_id)}
        if not {"job compute", "job write result", "job complete"} <= children:
            raise Failure("phase spans %s" % children)
        ok("job %s: producer span in the request's trace, status trace_id %s, run span linked to it (attempt 1) with "
           "phases %s" % (job, TRACE, ", ".join(sorted(children))))

        # 5. Log lines inside a request and a job carry trace_id and span_id. Probes have no span and log at debug.
        s, _, h = request(port, "GET", "/api/v1/health/live", headers={"traceparent": "00-%s-%s-01" % ("1" * 32, PARENT)})
        if s != 200 or "traceparent" in h:
            raise Failure("a probe answered %s with traceparent %r" % (s, h.get("traceparent")))
        time.sleep(0.3)
        lines = svc.log_lines()
        if any(l.get("msg") == "request completed" and l.get("route", "").endswith("/health/live") for l in lines):
            raise Failure("a probe's access line was logged at INFO")
        with receiver.lock:
            if any(s.trace_id.hex() == "1" * 32 for _, s in receiver.spans):
                raise Failure("a probe made a span")
        access = [l for l in lines if l.get("msg") == "request completed" and l.get("route") == "/api/v2/abm/simulate"]
        if not access or access[-1].get("trace_id") != TRACE or len(access[-1].get("span_id", "")) != 16:
            raise Failure("the access log line of the submission: %s" % (access[-1:] or "none"))
        if any("secret-token" in json.dumps(l) for l in lines):
            raise Failure("a request header reached the log")
        ok("the access log line carries the request's trace_id and span_id; no request header reached the log; "
           "a probe made no span and no INFO line")

        # 6. kill -9 while a job runs, restart: the rerun is a new run span, attempt 2, linked to the same submission.
        s, data, _ = request(port, "POST", "/api/v2/abm/simulate", body(seed=9, horizon=240, agents=1000, buckets=200),
                             headers={"traceparent": "00-%s-%s-01" % (TRACE, PARENT)})
        long_job = json.loads(data)["job_id"]
        wait_status(port, long_job, ("running",))
        producer2 = receiver.find(lambda x: x.kind == trace_pb2.Span.SPAN_KIND_PRODUCER and attrs(x).get("abm.job.id") == long_job,
                                  what="producer span of the long job")[0]
        svc.kill9()
        svc.start()
        rerun = receiver.find(lambda x: x.kind == trace_pb2.Span.SPAN_KIND_CONSUMER and attrs(x).get("abm.job.id") == long_job
                              and attrs(x).get("abm.job.attempt", 0) >= 2, timeout=120, what="run span of the rerun")[0]
        if (TRACE, producer2.span_id.hex()) not in [(l.trace_id.hex(), l.span_id.hex()) for l in rerun.links]:
            raise Failure("the rerun's links %s do not name the submission" % list(rerun.links))
        ok("after kill -9 and a restart, the rerun of %s (attempt %d) links to the submitting request's span"
           % (long_job, attrs(rerun)["abm.job.attempt"]))

        # 7. The receiver stopped: requests are unaffected, and the failed exports are counted.
        receiver.close()
        before = metric(port, "abm_tracing_export_failures_total")
        started = time.time()
        for _ in range(50):
            s, _, h = request(port, "GET", "/", timeout=5)
            if s != 200 or "traceparent" not in h:
                raise Failure("with the receiver down a request answered %s" % s)
        elapsed = time.time() - started
        deadline = time.time() + 20
        while metric(port, "abm_tracing_export_failures_total") <= before and time.time() < deadline:
            time.sleep(0.2)
        failures = metric(port, "abm_tracing_export_failures_total")
        if failures <= before:
            raise Failure("failed exports were not counted")
        ok("receiver stopped: 50 requests answered 200 in %.2fs; abm_tracing_export_failures_total %g -> %g, "
           "abm_tracing_spans_dropped_total %g" % (elapsed, before, failures, metric(port, "abm_tracing_spans_dropped_total")))
        svc.stop()

        # 8. Shutdown flushes: with a minute between batch exports, a request's span still arrives when the
        # service stops right after it.
        receiver = Receiver(base)
        svc.env["OTEL_BSP_SCHEDULE_DELAY"] = "60000"
        svc.start()
        s, _, h = request(port, "GET", "/", headers={"traceparent": "00-%s-%s-01" % ("2" * 32, PARENT)})
        svc.stop()
        receiver.find(lambda x: x.trace_id.hex() == "2" * 32, timeout=1, what="span flushed at shutdown")
        receiver.close()
        ok("a request's span was exported by the shutdown, a minute before its batch was due")

        # 9. Protocols that are not built are refused at start, with the reason.
        for proto, words in (("grpc", "grpc is not built"), ("http/json", "base64")):
            env = dict(svc.env, OTEL_EXPORTER_OTLP_PROTOCOL=proto)
            p = subprocess.run([binary, "serve"], env=env, capture_output=True, timeout=60)
            if p.returncode != 78 or words not in p.stderr.decode():
                raise Failure("OTEL_EXPORTER_OTLP_PROTOCOL=%s: exit %s, %s" % (proto, p.returncode, p.stderr.decode()[-300:]))
        ok("OTEL_EXPORTER_OTLP_PROTOCOL=grpc and http/json are refused at start (exit 78) with the reason")
        print("PASS", flush=True)
        return 0
    except Failure as e:
        print("FAIL: %s" % e, flush=True)
        try:
            with open(svc.log_path, "rb") as f:
                print(f.read()[-4000:].decode(errors="replace"))
        except OSError:
            pass
        return 1
    finally:
        svc.stop()
        try:
            receiver.close()
        except Exception:
            pass
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(run(os.path.realpath(sys.argv[1]), int(sys.argv[2])))
