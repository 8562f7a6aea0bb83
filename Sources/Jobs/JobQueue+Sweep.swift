import Foundation

/// The TTL sweep: every `sweepInterval`, in batches, so the store's writer is never held for long.
extension JobQueue {
    func sweepLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(configuration.sweepInterval))
            if Task.isCancelled { return }
            _ = await sweep()
        }
    }

    /// Deletes terminal jobs older than the TTL, expired cache entries and results nothing refers to.
    @discardableResult
    public func sweep() async -> Int {
        let t = now()
        do {
            let deleted = try await store.sweep(
                completedBefore: t.addingTimeInterval(-configuration.jobTTL),
                cacheExpiredBefore: t.addingTimeInterval(-configuration.cacheMaxAge))
            if deleted > 0 { logger.info("expired jobs deleted", metadata: ["count": "\(deleted)"]) }
            return deleted
        } catch {
            metrics.storeError()
            logger.error("job sweep failed", metadata: ["error": "\(error)"])
            return 0
        }
    }
}
