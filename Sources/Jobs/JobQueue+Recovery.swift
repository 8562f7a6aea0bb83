import Foundation
import Logging

/// Recovery is single-flight: one task, awaited by every caller (the service's start, readiness, the systemd
/// status line, submissions); a failed attempt leaves nothing behind and the next caller or the one-second
/// tick tries again, and whichever attempt succeeds wakes the dispatcher, so recovered jobs start then. It
/// reads no request or result: it is one statement over the running jobs plus the schema check, whatever the
/// number of stored jobs.
extension JobQueue {
    /// True once the store is open and the runs of an earlier process are requeued.
    @discardableResult
    public func recover() async -> Bool {
        if recovered { return true }
        if let recovery { return await recovery.value }
        let attempt = Task { await self.attemptRecovery() }
        recovery = attempt
        let ok = await attempt.value
        if recovery == attempt { recovery = nil }
        return ok
    }

    private func attemptRecovery() async -> Bool {
        do {
            try await store.migrate()
            let rescue: Rescue
            if store.isShared {
                // Other instances may be running jobs: only this instance's own earlier runs (it was killed and
                // started again under the same id) and runs whose lease expired are abandoned.
                let own = try await store.requeueOwned(by: owner, maxRescues: configuration.maxRescues, now: now())
                let expired = try await store.requeueAbandoned(leaseExpiredBefore: now(), maxRescues: configuration.maxRescues, now: now())
                rescue = Rescue(requeued: own.requeued + expired.requeued, failed: own.failed + expired.failed)
                if rescue.requeued > 0 { signals?.post(.queued) }
            } else {
                // The embedded stores belong to this process alone: every run still marked running was
                // interrupted (a crash, kill -9, a power cut) and runs again from its stored request and seed.
                rescue = try await store.requeueAbandoned(leaseExpiredBefore: nil, maxRescues: configuration.maxRescues, now: now())
            }
            let counts = try await store.counts()
            recovered = true
            storeFault = nil
            metrics.rescued(rescue.requeued)
            logger.info(
                "job queue recovered",
                metadata: [
                    "jobs": "\(counts.jobs.total)", "queued": "\(counts.jobs[.pending])", "interrupted": "\(rescue.requeued)",
                    "abandoned": "\(rescue.failed)",
                ])
            wake.yield()
            return true
        } catch {
            storeFault = "\(error)"
            recoveryFailures += 1
            // Retried every second: the first failure and then one a minute are errors, the rest debug.
            let level: Logger.Level = recoveryFailures % 60 == 1 ? .error : .debug
            logger.log(
                level: level, "job store unavailable at startup; retrying",
                metadata: ["error": "\(error)", "attempts": "\(recoveryFailures)"])
            return false
        }
    }
}

extension JobQueue {
    /// Requeues runs whose lease expired (their instance died or stalled); in a shared store one instance at
    /// a time does it, and the others find nothing to do.
    func rescueExpired() async {
        do {
            let rescue = try await store.requeueAbandoned(leaseExpiredBefore: now(), maxRescues: configuration.maxRescues, now: now())
            guard rescue.requeued + rescue.failed > 0 else { return }
            metrics.rescued(rescue.requeued)
            logger.warning(
                "runs with an expired lease requeued",
                metadata: ["event": "jobs_rescued", "requeued": "\(rescue.requeued)", "abandoned": "\(rescue.failed)"])
            if rescue.requeued > 0 {
                signals?.post(.queued)
                wake.yield()
            }
        } catch {
            _ = fault(error)
        }
    }
}
