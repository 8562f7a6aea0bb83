import NIOCore

/// The deadlines of one connection, as a state machine over the times it is told (tested with any clock).
///
/// - idle: no request in progress and no byte of a new one for `idle`;
/// - head: the first byte of a request head arrived, the whole head did not within `head`;
/// - body: an upload sent nothing for `body`;
/// - write: the client read nothing (the channel stayed unwritable) for `write`, in any phase.
///
/// While a request is being handled (read whole, response not ended) only the write deadline applies:
/// the work has its own budget.
struct ConnectionTimeouts {
    struct Limits: Sendable, Equatable {
        var idle: TimeAmount
        var head: TimeAmount
        var body: TimeAmount
        var write: TimeAmount
    }

    enum Reason: String, Sendable, CaseIterable {
        case idle, head, body, write
    }

    enum Phase: Equatable {
        /// Between requests, since `since`; `firstByte` once a new head has begun.
        case waiting(since: NIODeadline, firstByte: NIODeadline?)
        /// Reading a request's body; `lastProgress` is the latest byte.
        case body(lastProgress: NIODeadline)
        /// The request was read; its response is not finished.
        case handling
    }

    let limits: Limits
    private(set) var phase: Phase
    private(set) var unwritableSince: NIODeadline?

    init(limits: Limits, now: NIODeadline) {
        self.limits = limits
        self.phase = .waiting(since: now, firstByte: nil)
    }

    mutating func bytesRead(now: NIODeadline) {
        switch phase {
        case .waiting(let since, nil): phase = .waiting(since: since, firstByte: now)
        case .body: phase = .body(lastProgress: now)
        case .waiting, .handling: break
        }
    }

    mutating func requestHead(now: NIODeadline) { phase = .body(lastProgress: now) }

    mutating func requestEnd() { phase = .handling }

    /// A response ended. A pipelined request already being read keeps its phase.
    mutating func responseEnd(now: NIODeadline) {
        if phase == .handling { phase = .waiting(since: now, firstByte: nil) }
    }

    mutating func writability(_ writable: Bool, now: NIODeadline) {
        if writable {
            unwritableSince = nil
        } else if unwritableSince == nil {
            unwritableSince = now
        }
    }

    /// The earliest deadline and what it is for; nil when none applies.
    var deadline: (at: NIODeadline, reason: Reason)? {
        var best: (at: NIODeadline, reason: Reason)?
        func consider(_ at: NIODeadline, _ reason: Reason) {
            if best == nil || at < best!.at { best = (at, reason) }
        }
        switch phase {
        case .waiting(let since, nil): consider(since + limits.idle, .idle)
        case .waiting(_, let first?): consider(first + limits.head, .head)
        case .body(let last): consider(last + limits.body, .body)
        case .handling: break
        }
        if let since = unwritableSince { consider(since + limits.write, .write) }
        return best
    }

    /// The reason to close at `now`, if a deadline has passed.
    func expired(now: NIODeadline) -> Reason? {
        guard let d = deadline, now >= d.at else { return nil }
        return d.reason
    }
}
