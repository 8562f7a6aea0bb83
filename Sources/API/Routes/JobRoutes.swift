import Foundation
import HTTPTypes
import Hummingbird
import Jobs
import Simulation

/// Async ABM and Monte Carlo jobs (spec 3.9 to 3.15, 3.17, 3.18) over the durable queue.
struct JobRoutes {
    let services: APIServices
    let abm: ABMRoutes

    func register(on router: Router<ABMRequestContext>) {
        router.post("/api/v2/abm/simulate") { request, context in
            let req = try await abm.decodeABM(request)
            let queue = try services.queue()
            do {
                let s = try await queue.submitABM(req, client: context.clientAddress)
                return Response.json(submission(s.job, cached: s.cached, monteCarlo: false))
            } catch let error as JobQueueError {
                throw APIError.from(error)
            }
        }
        router.post("/api/v2/abm/monte-carlo/simulate") { request, context in
            let body = try await services.jsonBody(request)
            let req: ABMRequest
            switch ABMRequestDecoder.decode(body) {
            case .success(let r): req = r
            case .failure(let f): throw APIError.validation(f)
            }
            guard let settings = req.monteCarlo else {
                throw APIError.detail(.badRequest, "Monte Carlo configuration is required. Please provide monte_carlo settings.")
            }
            try services.workBudget.check(req, trials: settings.numTrials)
            let queue = try services.queue()
            do {
                let s = try await queue.submitMonteCarlo(req, client: context.clientAddress)
                return Response.json(submission(s.job, cached: false, monteCarlo: true))
            } catch let error as JobQueueError {
                // D21: a full queue is 429 here too.
                throw APIError.from(error)
            }
        }
        router.get("/api/v2/abm/jobs/:job_id/status") { _, context in
            let job = try await find(context.parameters.jobID)
            return Response.json([
                "job_id": .string(job.id), "status": .string(job.status.rawValue), "progress_pct": .num(job.progressPct),
                "current_month": .integer(job.currentMonth), "total_months": .integer(job.totalMonths), "error": .str(job.error),
                // The trace of the submitting request (null when tracing was off then).
                "trace_id": .str(job.traceparent.flatMap(JobTrace.traceID(ofTraceparent:))),
            ])
        }
        router.get("/api/v2/abm/jobs/:job_id/results") { _, context in
            try await results(
                context.parameters.jobID, kind: .abm, notCompleted: "Job not completed yet",
                // D40: say where the results are.
                wrongKind: { "Results not available: job \($0) is a Monte Carlo simulation. Use /api/v2/abm/monte-carlo/results/\($0)" })
        }
        router.get("/api/v2/abm/monte-carlo/results/:job_id") { _, context in
            try await results(
                context.parameters.jobID, kind: .monteCarlo, notCompleted: "Monte Carlo simulation not completed yet",
                wrongKind: { _ in "Monte Carlo results not available. Job may not be a Monte Carlo simulation." })
        }
        router.delete("/api/v2/abm/jobs/:job_id") { _, context in
            let id = context.parameters.jobID
            let queue = try services.queue()
            do {
                try await queue.cancel(id)
            } catch JobQueueError.notFound {
                throw APIError.detail(.badRequest, "Job \(id) not found or not cancellable")
            } catch let error as JobQueueError {
                throw APIError.from(error)
            }
            return Response.json(["message": .string("Job \(id) cancelled")])
        }
        router.get("/api/v2/abm/jobs") { request, _ in
            let query = try JobListQuery(request.uri.queryParameters)
            let page: JobPage
            do {
                page = try await services.queue().list(after: query.after, limit: query.limit)
            } catch let e as JobQueueError {
                throw APIError.from(e)
            }
            return Response.json([
                "jobs": .array(page.jobs.map(Self.info)), "next_cursor": page.next.map { .string(JobListQuery.cursor(after: $0)) } ?? .null,
            ])
        }
        router.get("/api/v2/abm/queue/stats") { _, _ in
            let s: JobQueue.Stats
            do {
                s = try await services.queue().stats()
            } catch let e as JobQueueError {
                throw APIError.from(e)
            }
            return Response.json([
                "total_jobs": .integer(s.counts.total),
                "status_counts": .object(JSONObject(JobStatus.allCases.map { ($0.rawValue, JSONValue.integer(s.counts[$0])) })),
                "cache_size": .integer(s.cacheSize), "max_concurrent_jobs": .integer(s.maxConcurrentJobs),
                "max_queued_jobs": .integer(s.maxQueuedJobs),
            ])
        }
        router.get("/api/v2/abm/jobs/:job_id/stream") { request, context in
            let job = try await find(context.parameters.jobID)
            let lastEventID = request.headers[.lastEventID].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            return ProgressStream(queue: try services.queue(), jobID: job.id, lastEventID: lastEventID).response()
        }
    }

    func find(_ id: String) async throws -> JobRecord {
        let job: JobRecord?
        do {
            job = try await services.queue().job(id)
        } catch let e as JobQueueError {
            throw APIError.from(e)
        }
        guard let job else { throw APIError.detail(.notFound, "Job \(id) not found") }
        return job
    }

    /// The stored result of a completed job of `kind`: 404 unknown, 400 not completed, 404 another kind.
    func results(_ id: String, kind: JobKind, notCompleted: String, wrongKind: (String) -> String) async throws -> Response {
        let job = try await find(id)
        guard job.status == .completed else {
            throw APIError.detail(.badRequest, "\(notCompleted). Status: \(job.status.rawValue)")
        }
        guard job.kind == kind else { throw APIError.detail(.notFound, wrongKind(job.id)) }
        return try await storedResult(job)
    }

    /// The stored result, streamed chunk by chunk from the store as the client reads it: a result never
    /// exists whole in this process, whatever its size.
    func storedResult(_ job: JobRecord) async throws -> Response {
        let queue = try services.queue()
        let info: ResultInfo
        do {
            guard let found = try await queue.resultInfo(job.id) else { throw APIError.detail(.notFound, "Results not available") }
            info = found
        } catch let e as JobQueueError {
            throw APIError.from(e)
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(contentLength: info.bytes) { writer in
                for index in 0..<info.chunks {
                    // A result deleted mid-stream (its TTL passed) ends the connection short of Content-Length,
                    // which every client sees as an incomplete body rather than a wrong one.
                    guard let chunk = try await queue.resultChunk(info, index: index) else { throw ResultStreamError.gone }
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
                try await writer.finish(nil)
            })
    }

    func submission(_ job: JobRecord, cached: Bool, monteCarlo: Bool) -> JSONValue {
        [
            "job_id": .string(job.id), "status": .string(job.status.rawValue),
            "status_url": .string("/api/v2/abm/jobs/\(job.id)/status"),
            "stream_url": .string("/api/v2/abm/jobs/\(job.id)/stream"), "cached": .bool(cached),
            "results_url": .string(
                monteCarlo ? "/api/v2/abm/monte-carlo/results/\(job.id)" : "/api/v2/abm/jobs/\(job.id)/results"),
        ]
    }

    static func info(_ job: JobRecord) -> JSONValue {
        [
            "job_id": .string(job.id), "status": .string(job.status.rawValue), "created_at": Timestamp.iso(job.createdAt),
            "started_at": Timestamp.iso(job.startedAt), "completed_at": Timestamp.iso(job.completedAt),
            "current_month": .integer(job.currentMonth), "total_months": .integer(job.totalMonths),
            "progress_pct": .num(job.progressPct), "error": .str(job.error),
        ]
    }
}

enum ResultStreamError: Error { case gone }

extension HTTPField.Name {
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
    static let accelBuffering = HTTPField.Name("X-Accel-Buffering")!
}
