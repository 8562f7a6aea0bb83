import Foundation
import Logging
import Synchronization

/// Sends alerts to Alertmanager's `/api/v2/alerts` as Prometheus does: firing alerts with an `endsAt` in the
/// future (re-sent before it passes), resolved alerts with their resolution time. A failed POST is retried
/// a bounded number of times with backoff; after that the batch is counted as failed and the next resend
/// carries the alerts again.
public final class AlertmanagerClient: Sendable {
    public let target: HTTPPoster.Target
    public let attempts: Int
    let poster: HTTPPoster
    let logger: Logger
    private let counters = Mutex<(sent: Int, failed: Int)>((0, 0))

    public init(target: HTTPPoster.Target, timeout: Double = 5, attempts: Int = 3, logger: Logger) {
        self.target = target
        self.poster = HTTPPoster(timeout: timeout)
        self.attempts = max(1, attempts)
        self.logger = logger
    }

    public var sent: Int { counters.withLock { $0.sent } }
    public var failed: Int { counters.withLock { $0.failed } }

    public struct Payload: Encodable, Sendable {
        public var labels: [String: String]
        public var annotations: [String: String]
        public var startsAt: String
        public var endsAt: String
        public var generatorURL: String
    }

    static func timestamp(_ ms: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    public static func payload(_ alert: Alert, validUntil: Int64, generatorURL: String) -> Payload {
        Payload(
            labels: alert.labels.dictionary, annotations: alert.annotations, startsAt: timestamp(alert.firedAt ?? alert.activeAt),
            endsAt: timestamp(alert.state == .inactive ? (alert.resolvedAt ?? validUntil) : validUntil), generatorURL: generatorURL)
    }

    /// Delivers one batch; returns whether Alertmanager accepted it.
    @discardableResult
    public func send(_ alerts: [Payload]) async -> Bool {
        guard !alerts.isEmpty else { return true }
        let body: [UInt8]
        do { body = Array(try JSONEncoder().encode(alerts)) } catch { return false }
        var lastError = ""
        for attempt in 1...attempts {
            do {
                let status = try await poster.post(target, path: "/api/v2/alerts", body: body)
                if (200..<300).contains(status) {
                    counters.withLock { $0.sent += alerts.count }
                    return true
                }
                lastError = "HTTP \(status)"
                // A 4xx will not improve with a retry.
                if (400..<500).contains(status) { break }
            } catch {
                lastError = "\(error)"
            }
            if Task.isCancelled { break }
            if attempt < attempts { try? await Task.sleep(for: .milliseconds(250 << (attempt - 1))) }
        }
        counters.withLock { $0.failed += 1 }
        logger.error(
            "alertmanager notification failed",
            metadata: [
                "event": "alert_delivery_failed", "alertmanager": "\(target.host):\(target.port)", "alerts": "\(alerts.count)", "error": "\(lastError)",
            ])
        return false
    }
}
