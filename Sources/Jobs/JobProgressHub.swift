import Synchronization

/// A job's observable state at one moment: what status calls and the progress stream report.
public struct JobSnapshot: Sendable, Equatable {
    public var jobID: String
    public var status: JobStatus
    public var currentMonth: Int
    public var totalMonths: Int
    public var error: String?

    public init(jobID: String, status: JobStatus, currentMonth: Int, totalMonths: Int, error: String? = nil) {
        self.jobID = jobID
        self.status = status
        self.currentMonth = currentMonth
        self.totalMonths = totalMonths
        self.error = error
    }

    public var progressPct: Double { totalMonths > 0 ? Double(currentMonth) / Double(totalMonths) * 100 : 0 }

    /// The id of the progress event for this state. Ids are a pure function of progress, so a client
    /// resuming with `Last-Event-ID` gets every later event exactly once, even across a restart:
    /// 0 while queued, 1 + m while running at month (or trial) m, total + 2 once terminal
    /// (the closing `done` event is total + 3).
    public var eventID: Int {
        switch status {
        case .pending: return 0
        case .running: return 1 + currentMonth
        case .completed, .failed, .cancelled: return totalMonths + 2
        }
    }

    public var doneEventID: Int { totalMonths + 3 }

    /// The snapshot a progress event with `id` describes, for ids up to this snapshot's own.
    public func event(id: Int) -> JobSnapshot {
        if id == eventID { return self }
        if id == 0 { return JobSnapshot(jobID: jobID, status: .pending, currentMonth: 0, totalMonths: totalMonths) }
        return JobSnapshot(jobID: jobID, status: .running, currentMonth: min(id - 1, totalMonths), totalMonths: totalMonths)
    }
}

/// Live progress of the jobs running in this process, pushed to subscribers as it changes (the progress
/// stream is not polled). It holds an entry only while a job runs here or a client is subscribed to it, so
/// its memory follows the running jobs and the open streams, never the stored jobs. Updates come from
/// simulation worker threads, so this is lock-based rather than an actor.
public final class JobProgressHub: Sendable {
    private struct Entry {
        var snapshot: JobSnapshot?
        var subscribers: [UInt64: AsyncStream<JobSnapshot>.Continuation] = [:]
    }
    private struct State {
        var entries: [String: Entry] = [:]
        var nextID: UInt64 = 0
    }
    private let state = Mutex(State())
    /// Told every state published here (the queue sends it to the other instances of a shared store).
    private let forwarder = Mutex<Callback<JobSnapshot>?>(nil)

    public init() {}

    func setForwarder(_ forward: @escaping @Sendable (JobSnapshot) -> Void) {
        forwarder.withLock { $0 = Callback(forward) }
    }

    /// Whether a state from another instance is wanted here: a stream is open on the job, which does not run here.
    public func relays(_ id: String) -> Bool {
        state.withLock { s in s.entries[id].map { !$0.subscribers.isEmpty && $0.snapshot == nil } ?? false }
    }

    /// A state of a job running on another instance, pushed to the streams open on it here (nothing is kept).
    public func relay(_ snapshot: JobSnapshot) {
        let subscribers = state.withLock { s -> [AsyncStream<JobSnapshot>.Continuation] in
            guard let e = s.entries[snapshot.jobID], e.snapshot == nil else { return [] }
            if snapshot.status.isTerminal { s.entries[snapshot.jobID] = nil }
            return Array(e.subscribers.values)
        }
        for s in subscribers { s.yield(snapshot) }
        if snapshot.status.isTerminal {
            for s in subscribers { s.finish() }
        }
    }

    /// The live state of a job running here.
    public func snapshot(_ id: String) -> JobSnapshot? { state.withLock { $0.entries[id]?.snapshot } }

    /// Records a new state and pushes it to every subscriber of the job; a terminal state ends their streams.
    public func publish(_ snapshot: JobSnapshot) {
        let subscribers = state.withLock { s -> [AsyncStream<JobSnapshot>.Continuation] in
            let subs = Array(s.entries[snapshot.jobID]?.subscribers.values ?? [:].values)
            if snapshot.status.isTerminal || snapshot.status == .pending {
                // Only running jobs are kept; subscribers of a job that ended are finished below.
                if snapshot.status.isTerminal {
                    s.entries[snapshot.jobID] = nil
                } else {
                    s.entries[snapshot.jobID]?.snapshot = nil
                }
            } else {
                s.entries[snapshot.jobID, default: Entry()].snapshot = snapshot
            }
            return subs
        }
        for s in subscribers { s.yield(snapshot) }
        if snapshot.status.isTerminal {
            for s in subscribers { s.finish() }
        }
        forwarder.withLock { $0 }?.call(snapshot)
    }

    /// Progress from a worker thread: only the month moves.
    public func progress(_ id: String, month: Int, total: Int) {
        guard var snap = snapshot(id) else { return }
        snap.currentMonth = month
        snap.totalMonths = total
        publish(snap)
    }

    /// The run ended here: its live state goes (subscribers stay until the job's terminal state reaches them).
    public func forget(_ id: String) {
        state.withLock { s in
            s.entries[id]?.snapshot = nil
            if s.entries[id]?.subscribers.isEmpty == true { s.entries[id] = nil }
        }
    }

    /// A stream of this job's states from now on; it finishes once the job is terminal.
    public func subscribe(_ id: String) -> AsyncStream<JobSnapshot> {
        let (stream, continuation) = AsyncStream.makeStream(of: JobSnapshot.self, bufferingPolicy: .bufferingNewest(64))
        let token = state.withLock { s -> UInt64 in
            s.nextID += 1
            s.entries[id, default: Entry()].subscribers[s.nextID] = continuation
            return s.nextID
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { s in
                s.entries[id]?.subscribers.removeValue(forKey: token)
                if let e = s.entries[id], e.subscribers.isEmpty, e.snapshot == nil { s.entries[id] = nil }
            }
        }
        return stream
    }

    /// Entries held: running jobs and jobs with open streams.
    public var entryCount: Int { state.withLock { $0.entries.count } }
}
