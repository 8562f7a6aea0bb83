import HummingbirdCore

/// At most `limit` open connections: at the limit the listener stops accepting (new clients wait in the
/// kernel's backlog) until one closes. Called on the listener's event loop only.
struct ConnectionCap: AvailableConnectionsDelegate {
    let limit: Int
    let metrics: ConnectionMetrics
    private var count = 0

    init(limit: Int, metrics: ConnectionMetrics) {
        self.limit = limit
        self.metrics = metrics
    }

    mutating func connectionOpened() {
        count += 1
        metrics.open.record(count)
    }

    mutating func connectionClosed() {
        count -= 1
        metrics.open.record(count)
    }

    func isAcceptingNewConnections() -> Bool { count < limit }
}
