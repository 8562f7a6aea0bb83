/// The rules the service evaluates when ABM_ALERT_RULES names no files: a byte-for-byte copy of
/// alerts/abm.rules.yml (a test keeps the two identical; `make embed-rules` regenerates this file).
public enum EmbeddedRules {
    public static let abm = #"""
# abm-service alert rules, in Prometheus rule-group format: `promtool check rules` accepts this file and a
# Prometheus server loads it as it is.
#
# Objectives:
#   availability: 99.9% of HTTP requests answer without a 5xx, over 30 days (error budget 0.1%);
#   latency:      the 95th percentile of HTTP request duration stays under 0.25 s (a bucket boundary of
#                 abm_http_request_duration_seconds).
# runbook_url is the runbook's path in this repository (runbooks/<AlertName>.md).
# Error-rate alerts are multiwindow burn-rate alerts against the availability objective: the fast pair pages
# when 2% of a month's budget burns in an hour, the slow pair opens a ticket when 5% burns in six hours.
# Health probes are left out of the error ratios: a 503 from /health/ready is the service declining traffic
# on purpose (queue full, draining), not a failed request.
groups:
  - name: abm-recording
    interval: 30s
    rules:
      - record: abm:http_requests:rate5m
        expr: sum by (job, instance) (rate(abm_http_requests_total[5m]))
      - record: abm:http_errors:ratio_rate5m
        expr: sum by (job, instance) (rate(abm_http_requests_total{status=~"5..",route!~"/health.*|/api/v1/health.*"}[5m])) / sum by (job, instance) (rate(abm_http_requests_total{route!~"/health.*|/api/v1/health.*"}[5m]))
      - record: abm:http_errors:ratio_rate30m
        expr: sum by (job, instance) (rate(abm_http_requests_total{status=~"5..",route!~"/health.*|/api/v1/health.*"}[30m])) / sum by (job, instance) (rate(abm_http_requests_total{route!~"/health.*|/api/v1/health.*"}[30m]))
      - record: abm:http_errors:ratio_rate1h
        expr: sum by (job, instance) (rate(abm_http_requests_total{status=~"5..",route!~"/health.*|/api/v1/health.*"}[1h])) / sum by (job, instance) (rate(abm_http_requests_total{route!~"/health.*|/api/v1/health.*"}[1h]))
      - record: abm:http_errors:ratio_rate6h
        expr: sum by (job, instance) (rate(abm_http_requests_total{status=~"5..",route!~"/health.*|/api/v1/health.*"}[6h])) / sum by (job, instance) (rate(abm_http_requests_total{route!~"/health.*|/api/v1/health.*"}[6h]))
      - record: abm:http_request_duration_seconds:p95_5m
        expr: histogram_quantile(0.95, sum by (job, instance, le) (rate(abm_http_request_duration_seconds_bucket[5m])))
      - record: abm:jobs_failed:ratio_rate15m
        expr: sum by (job, instance) (rate(abm_jobs_finished_total{status="failed"}[15m])) / sum by (job, instance) (rate(abm_jobs_finished_total[15m]))

  - name: abm-alerts
    interval: 30s
    rules:
      - alert: AbmErrorBudgetBurnFast
        expr: abm:http_errors:ratio_rate1h > (14.4 * 0.001) and abm:http_errors:ratio_rate5m > (14.4 * 0.001)
        for: 2m
        labels:
          severity: critical
        annotations:
          summary: "abm {{ $labels.instance }} is burning its error budget fast"
          description: "{{ $value | humanizePercentage }} of requests failed with a 5xx over the last hour (objective 99.9% available; this burns 2% of the monthly budget per hour)."
          runbook_url: "runbooks/AbmErrorBudgetBurnFast.md"

      - alert: AbmErrorBudgetBurnSlow
        expr: abm:http_errors:ratio_rate6h > (6 * 0.001) and abm:http_errors:ratio_rate30m > (6 * 0.001)
        for: 15m
        labels:
          severity: warning
        annotations:
          summary: "abm {{ $labels.instance }} is burning its error budget"
          description: "{{ $value | humanizePercentage }} of requests failed with a 5xx over six hours (objective 99.9% available)."
          runbook_url: "runbooks/AbmErrorBudgetBurnSlow.md"

      - alert: AbmLatencyP95High
        expr: abm:http_request_duration_seconds:p95_5m > 0.25
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: "abm {{ $labels.instance }} p95 latency above 250 ms"
          description: "The 95th percentile of request duration is {{ $value | humanizeDuration }} (objective: under 0.25 s)."
          runbook_url: "runbooks/AbmLatencyP95High.md"

      # Queue depth is a value of the job store, not of an instance: every instance over a shared store
      # (PostgreSQL) reports the same cluster-wide counts, so these take the max per scrape job (one job per
      # store: see ops/prometheus/prometheus.yml) and fire once per cluster, never summed over instances.
      - alert: AbmJobQueueBacklog
        expr: max by (job) (abm_jobs{state="pending"}) > on (job) (0.5 * max by (job) (abm_job_queue_capacity))
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: "abm cluster {{ $labels.job }} has a job backlog"
          description: "{{ $value }} jobs have been waiting for 10 minutes, more than half of the queue's capacity."
          runbook_url: "runbooks/AbmJobQueueBacklog.md"

      - alert: AbmJobQueueFull
        expr: max by (job) (abm_jobs{state="pending"}) >= on (job) max by (job) (abm_job_queue_capacity)
        for: 2m
        labels:
          severity: critical
        annotations:
          summary: "abm cluster {{ $labels.job }} job queue is full"
          description: "{{ $value }} jobs are queued, the queue's capacity: new submissions get 429."
          runbook_url: "runbooks/AbmJobQueueFull.md"

      - alert: AbmJobOldestQueuedTooOld
        expr: max by (job) (abm_job_oldest_queued_age_seconds) > 900
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "abm cluster {{ $labels.job }}: a job has waited over 15 minutes to start"
          description: "The oldest queued job has waited {{ $value | humanizeDuration }}: no instance is claiming work fast enough, or none can."
          runbook_url: "runbooks/AbmJobOldestQueuedTooOld.md"

      - alert: AbmJobStoreUnavailable
        expr: increase(abm_job_store_errors_total[5m]) > 5
        for: 2m
        labels:
          severity: critical
        annotations:
          summary: "abm {{ $labels.instance }} cannot use its job store"
          description: "{{ $value | humanize }} job store operations failed in 5 minutes (PostgreSQL unreachable or refusing writes, or the SQLite file locked, read-only or full): submissions get 503 and no job starts."
          runbook_url: "runbooks/AbmJobStoreUnavailable.md"

      - alert: AbmJobNotifyDisconnected
        expr: abm_job_notify_connected == 0
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "abm {{ $labels.instance }} lost its PostgreSQL notification session"
          description: "LISTEN has been down for 5 minutes: the instance still works, but finds queued jobs and cancels by polling (ABM_JOB_POLL_INTERVAL_MS) instead of at once."
          runbook_url: "runbooks/AbmJobNotifyDisconnected.md"

      - alert: AbmJobRescuesRising
        expr: sum by (job) (increase(abm_job_rescues_total[15m])) > 5
        labels:
          severity: warning
        annotations:
          summary: "abm cluster {{ $labels.job }}: jobs keep losing their worker"
          description: "{{ $value | humanize }} interrupted runs were requeued in 15 minutes (expired leases or restarts): instances are dying, pausing or cut off from the database mid-job."
          runbook_url: "runbooks/AbmJobRescuesRising.md"

      - alert: AbmMemoryHigh
        expr: process_resident_memory_bytes > on (job, instance) (0.85 * abm_memory_limit_bytes > 0)
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: "abm {{ $labels.instance }} memory above 85% of its limit"
          description: "Resident memory is {{ $value | humanize1024 }}B, over 85% of the configured limit (abm_memory_limit_bytes)."
          runbook_url: "runbooks/AbmMemoryHigh.md"

      - alert: AbmJobFailureRatioHigh
        expr: abm:jobs_failed:ratio_rate15m > 0.1
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: "abm {{ $labels.instance }} jobs are failing"
          description: "{{ $value | humanizePercentage }} of the jobs that ended in the last 15 minutes failed."
          runbook_url: "runbooks/AbmJobFailureRatioHigh.md"

      - alert: AbmLogLinesDropped
        expr: increase(abm_log_dropped_lines_total[10m]) > 0
        labels:
          severity: warning
        annotations:
          summary: "abm {{ $labels.instance }} is losing log lines"
          description: "{{ $value | humanize }} log lines could not be written in the last 10 minutes (disk full or the log file failing)."
          runbook_url: "runbooks/AbmLogLinesDropped.md"

      - alert: AbmWatchdogPingsSkipped
        expr: increase(abm_watchdog_pings_skipped_total[10m]) > 0
        labels:
          severity: warning
        annotations:
          summary: "abm {{ $labels.instance }} withheld systemd watchdog pings"
          description: "{{ $value | humanize }} watchdog pings were withheld in 10 minutes: liveness failed or the event loops stalled; systemd restarts the service if this goes on."
          runbook_url: "runbooks/AbmWatchdogPingsSkipped.md"

      - alert: AbmNewErrorFingerprint
        expr: sum by (job, instance) (increase(abm_error_fingerprints_new_total[1h])) > 0
        labels:
          severity: warning
        annotations:
          summary: "abm {{ $labels.instance }} raised an error it never raised before"
          description: "{{ $value | humanize }} error fingerprints new to this instance appeared in the last hour: a new failure, often from the release that is running."
          runbook_url: "runbooks/AbmNewErrorFingerprint.md"

      - alert: AbmCrashReported
        expr: max by (job, instance) (abm_crash_reports_recent) > 0
        labels:
          severity: warning
        annotations:
          summary: "abm {{ $labels.instance }} crashed and was restarted"
          description: "This start found {{ $value | humanize }} crash reports of earlier runs; the service runs again, the reports say where it crashed."
          runbook_url: "runbooks/AbmCrashReported.md"

      - alert: AbmTracingSpansLost
        expr: sum by (job, instance) (increase(abm_tracing_spans_dropped_total[10m])) > 0
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "abm {{ $labels.instance }} is losing spans"
          description: "{{ $value | humanize }} spans were dropped in the last 10 minutes (collector unreachable or too slow, or the span queue full); requests are not affected."
          runbook_url: "runbooks/AbmTracingSpansLost.md"

      - alert: AbmTargetDown
        expr: up{job="abm"} == 0
        for: 2m
        labels:
          severity: critical
        annotations:
          summary: "abm target {{ $labels.instance }} is down"
          description: "Prometheus could not scrape {{ $labels.instance }} for 2 minutes."
          runbook_url: "runbooks/AbmTargetDown.md"

      - alert: AbmHeartbeat
        expr: vector(1)
        labels:
          severity: none
        annotations:
          summary: "Alerting pipeline heartbeat"
          description: "Always firing. If it stops reaching its receiver, the alerting pipeline itself is broken."
          runbook_url: "runbooks/AbmHeartbeat.md"
"""#
}
