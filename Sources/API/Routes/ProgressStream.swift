import Foundation
import HTTPTypes
import Hummingbird
import Jobs
import NIOCore
import ServiceLifecycle
import Simulation

/// Server-Sent Events for one job, pushed as the job advances (spec 7.6, with D32 and resumable ids).
///
/// Every event carries an `id:` derived from the job's progress (see `JobSnapshot.eventID`). A new client
/// gets the current state, then every change. A client reconnecting with `Last-Event-ID: n` gets every
/// event after n, reconstructed from the job's state, so nothing is skipped or repeated. The stream ends
/// with a `done` event; a comment line every 15 seconds keeps idle connections open. When the service
/// shuts down, each stream ends with a `shutdown` event (no id, so the client's `Last-Event-ID` still
/// names the last progress event) and a `retry:` hint, so an EventSource reconnects and resumes elsewhere.
/// With a shared store the stream works on any instance: a job running elsewhere reports through
/// notifications, and the store is read every 2 s as well.
struct ProgressStream {
    let queue: JobQueue
    let jobID: String
    let lastEventID: Int?
    static let heartbeat: Duration = .seconds(15)
    static let storePoll: Duration = .seconds(2)

    enum Item: Sendable {
        case state(JobSnapshot)
        case heartbeat
        case shutdown
    }

    func response() -> Response {
        let headers: HTTPFields = [
            .contentType: "text/event-stream", .cacheControl: "no-cache", .connection: "keep-alive", .accelBuffering: "no",
        ]
        let queue = self.queue
        let jobID = self.jobID
        let resumeFrom = self.lastEventID
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                let updates = queue.hub.subscribe(jobID)
                let (items, sink) = AsyncStream.makeStream(of: Item.self)
                try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await s in updates { sink.yield(.state(s)) }
                        sink.finish()
                    }
                    group.addTask {
                        while true {
                            try await Task.sleep(for: Self.heartbeat)
                            sink.yield(.heartbeat)
                        }
                    }
                    if queue.store.isShared {
                        // Progress of a job running on another instance comes by notification; this poll of the
                        // store (whose progress the running instance writes at each lease renewal) is the path
                        // that needs no notification, so a lost one delays events, never loses the end.
                        group.addTask {
                            while true {
                                try await Task.sleep(for: Self.storePoll)
                                if let j = try? await queue.job(jobID) {
                                    sink.yield(.state(JobSnapshot(
                                        jobID: jobID, status: j.status, currentMonth: j.currentMonth, totalMonths: j.totalMonths, error: j.error)))
                                }
                            }
                        }
                    }
                    var sent = resumeFrom
                    // Subscribed first, then read: a change between the two still arrives as an update.
                    let current = try await queue.job(jobID)
                    // A job deleted since the route found it (its TTL passed) has nothing more to say.
                    var done = true
                    if let current {
                        let snap = JobSnapshot(
                            jobID: jobID, status: current.status, currentMonth: current.currentMonth,
                            totalMonths: current.totalMonths, error: current.error)
                        // A finished job has nothing more to say either, even when the client had every event.
                        done = try await Self.emit(snap, sent: &sent, writer: &writer) || snap.status.isTerminal
                    }
                    var pending = items.makeAsyncIterator()
                    while !done, let item = await pending.next() {
                        switch item {
                        case .heartbeat:
                            try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        case .state(let snap):
                            done = try await Self.emit(snap, sent: &sent, writer: &writer)
                        case .shutdown:
                            let status = try? await queue.job(jobID)?.status.rawValue
                            try await writer.write(ByteBuffer(string: Self.shutdownFrame(jobID: jobID, status: status)))
                            done = true
                        }
                    }
                    group.cancelAll()
                    sink.finish()
                    try await writer.finish(nil)
                }
                } onGracefulShutdown: {
                    sink.yield(.shutdown)
                }
            })
    }

    /// Writes the events between the last one sent and `snap`; returns true once `done` went out.
    static func emit(_ snap: JobSnapshot, sent: inout Int?, writer: inout any ResponseBodyWriter) async throws -> Bool {
        let target = snap.eventID
        var ids: [Int]
        if let last = sent {
            // A client's Last-Event-ID can be anything: below zero means "from the first event", and the
            // range never reaches below 0 (a huge negative id once made a range of 10^11 elements) and an id
            // at Int.max is not incremented.
            ids = last >= target ? [] : Array((max(last, -1) + 1)...target)
        } else {
            ids = [target]
        }
        var out = ""
        for id in ids { out += frame(id: id, progress(snap.event(id: id))) }
        if snap.status.isTerminal, (sent ?? -1) < snap.doneEventID {
            out += frame(id: snap.doneEventID, [
                "type": "done", "job_id": .string(snap.jobID), "status": .string(snap.status.rawValue),
                "error": .str(snap.error),
            ])
            sent = snap.doneEventID
            try await writer.write(ByteBuffer(string: out))
            return true
        }
        if let last = ids.last { sent = last }
        if !out.isEmpty { try await writer.write(ByteBuffer(string: out)) }
        return false
    }

    /// The last frame of a stream cut by a shutdown: reconnect in a second and resume from the last id.
    static func shutdownFrame(jobID: String, status: String?) -> String {
        let data: JSONValue = [
            "type": "shutdown", "job_id": .string(jobID), "status": .str(status),
            "message": "The service is shutting down; reconnect with Last-Event-ID to resume.",
        ]
        return "retry: 1000\ndata: \(JSONWriter.string(data))\n\n"
    }

    static func progress(_ s: JobSnapshot) -> JSONValue {
        [
            "type": "progress", "job_id": .string(s.jobID), "status": .string(s.status.rawValue),
            "progress_pct": .num(s.progressPct), "current_month": .integer(s.currentMonth),
            "total_months": .integer(s.totalMonths),
        ]
    }

    static func frame(id: Int, _ data: JSONValue) -> String {
        "id: \(id)\ndata: \(JSONWriter.string(data))\n\n"
    }
}
