import Foundation
import InMemoryTracing
@testable import Jobs
import Logging
import Simulation
import Synchronization
import Testing
import Tracing

/// The job spans, with an in-memory tracer: a producer span at submission (child of the caller's span), its
/// context stored with the job, a consumer span per run linked to it with the job id and attempt, the run's
/// phases as children, a failed run marked as an error and reported once.
@Suite struct JobTracingTests {
    final class Reports: Sendable {
        let lines = Mutex<[String]>([])
    }

    func queue(_ tracer: InMemoryTracer, store: any JobStore = InMemoryJobStore(), reports: Reports? = nil) -> JobQueue {
        var c = JobQueueConfiguration()
        c.maxConcurrentJobs = 1
        c.tracer = tracer
        if let reports {
            c.errorReporter = { type, message, _, metadata in reports.lines.withLock { $0.append("\(type)|\(message)|\(metadata["job_id"] ?? "")") } }
        }
        return JobQueue(store: store, configuration: c)
    }

    @Test func aRunIsAConsumerSpanLinkedToItsSubmission() async throws {
        let tracer = InMemoryTracer()
        let queue = queue(tracer)
        try await withRunningQueue(queue) {
            let request = tracer.startSpan("POST /api/v2/abm/simulate", ofKind: .server)
            let submitted = try await InstrumentationContext.$current.withValue(request.context) { try await queue.submitABM(try JobsTests.request(6, seed: 3)) }
            request.end()
            #expect(submitted.job.traceparent != nil)
            _ = await eventually { await queue.peek(submitted.job.id)?.status == .completed }
            _ = await eventually { tracer.finishedSpans.contains { $0.operationName == "job run" } }
            let spans = tracer.finishedSpans
            let producer = try #require(spans.first { $0.operationName == "job submit" })
            #expect(producer.kind == .producer)
            #expect(producer.spanContext.traceID == request.context.inMemorySpanContext?.traceID)
            #expect(producer.spanContext.parentSpanID == request.context.inMemorySpanContext?.spanID)
            #expect(producer.attributes["abm.job.id"]?.toSpanAttribute() == .string(submitted.job.id))
            let run = try #require(spans.first { $0.operationName == "job run" })
            #expect(run.kind == .consumer)
            #expect(run.spanContext.traceID != producer.spanContext.traceID, "a run starts a trace of its own")
            #expect(run.links.count == 1)
            #expect(run.links.first?.context.inMemorySpanContext?.spanID == producer.spanContext.spanID)
            #expect(run.attributes["abm.job.attempt"]?.toSpanAttribute() == .int64(1))
            #expect(run.attributes["abm.job.id"]?.toSpanAttribute() == .string(submitted.job.id))
            let phases = spans.filter { $0.spanContext.parentSpanID == run.spanContext.spanID }.map(\.operationName)
            #expect(Set(phases) == ["job compute", "job write result", "job complete"])
            #expect(run.status == nil)
        }
    }

    @Test func aFailedRunIsAnErrorSpanAndOneErrorEvent() async throws {
        let tracer = InMemoryTracer()
        let reports = Reports()
        let store = InMemoryJobStore()
        let queue = queue(tracer, store: store, reports: reports)
        // A stored request that no longer validates fails its run.
        let job = JobRecord(id: "abm_bad", kind: .abm, createdAt: Date(), totalMonths: 6, seed: 1)
        _ = try await store.admit(
            NewJob(job: job, request: Array(#"{"token": {}}"#.utf8), cachedID: "cached_bad"),
            limits: AdmissionLimits(maxQueued: 10, maxQueuedPerClient: 0, cacheMaxAge: 60), now: Date())
        try await withRunningQueue(queue) {
            _ = await eventually { await queue.peek("abm_bad")?.status == .failed }
            _ = await eventually { tracer.finishedSpans.contains { $0.operationName == "job run" } }
        }
        let run = try #require(tracer.finishedSpans.first { $0.operationName == "job run" })
        #expect(run.status?.code == .error)
        #expect(run.links.isEmpty, "a job stored without a trace context has nothing to link to")
        let lines = reports.lines.withLock { $0 }
        #expect(lines.count == 1)
        #expect(lines.first?.hasSuffix("|abm_bad") == true)
        #expect(lines.first?.hasPrefix("ValidationFailure|The stored request is no longer valid") == true)
    }

    @Test func theStoredFormReadsBackIntoTheSameSpan() {
        let tracer = InMemoryTracer()
        let span = tracer.startSpan("x")
        let stored = try! #require(JobTrace.stored(span.context, tracer: tracer))
        let context = JobTrace.context(traceparent: stored, tracer: tracer)
        #expect(context?.inMemorySpanContext?.spanID == span.context.inMemorySpanContext?.spanID)
        #expect(JobTrace.traceID(ofTraceparent: stored) == nil, "not a W3C traceparent")
        #expect(JobTrace.traceID(ofTraceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(JobTrace.stored(.topLevel, tracer: NoOpTracer()) == nil)
        span.end()
    }
}
