import Foundation

/// What one instance tells the others about jobs in a shared store: best effort, for speed only. Every
/// signal has a slower path that does not need it: a missed `queued` is found by the dispatcher's poll, a
/// missed `cancel` by the next lease renewal, missed progress by the progress stream's poll of the store.
public enum JobSignal: Sendable, Equatable {
    /// Jobs are waiting: idle workers should claim now.
    case queued
    /// Someone asked to cancel this running job: the instance running it stops it now.
    case cancel(String)
    /// A job's progress or end, for progress streams open on other instances.
    case progress(JobSnapshot)

    /// The wire form, one signal: `q`, `c <id>`, `p <id> <status> <month> <total>`.
    var encoded: String {
        switch self {
        case .queued: return "q"
        case .cancel(let id): return "c \(id)"
        case .progress(let s): return "p \(s.jobID) \(s.status.rawValue) \(s.currentMonth) \(s.totalMonths)"
        }
    }

    init?(encoded text: Substring) {
        let parts = text.split(separator: " ")
        switch parts.first {
        case "q" where parts.count == 1:
            self = .queued
        case "c" where parts.count == 2:
            self = .cancel(String(parts[1]))
        case "p" where parts.count == 5:
            guard let status = JobStatus(rawValue: String(parts[2])), let month = Int(parts[3]), let total = Int(parts[4]) else {
                return nil
            }
            self = .progress(JobSnapshot(jobID: String(parts[1]), status: status, currentMonth: month, totalMonths: total))
        default:
            return nil
        }
    }

    /// Signals packed into notification payloads: `<sender>|<signal>;<signal>...`, each under `limit` bytes
    /// (PostgreSQL's is 8000).
    static func payloads(_ signals: [JobSignal], sender: String, limit: Int = 7900) -> [String] {
        var out: [String] = []
        var current = ""
        for s in signals {
            let item = s.encoded
            if !current.isEmpty, current.utf8.count + item.utf8.count + 1 > limit {
                out.append(current)
                current = ""
            }
            current += current.isEmpty ? "\(sender)|\(item)" : ";\(item)"
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// The sender and the signals of a payload; malformed signals are skipped.
    static func parse(payload: String) -> (sender: Substring, signals: [JobSignal])? {
        guard let bar = payload.firstIndex(of: "|") else { return nil }
        let body = payload[payload.index(after: bar)...]
        return (payload[..<bar], body.split(separator: ";").compactMap(JobSignal.init(encoded:)))
    }
}

/// Carries `JobSignal`s between the instances sharing a store. `post` never blocks (worker threads call it
/// with progress); delivery is asynchronous and coalesced: per job only the latest progress goes out.
public protocol JobSignalling: Sendable {
    func post(_ signal: JobSignal)
    /// Called with every signal from another instance, and with `.queued` after a lost connection came back
    /// (what was sent meanwhile is unknown, so the dispatcher looks).
    func setHandler(_ handler: @escaping @Sendable (JobSignal) -> Void)
}
