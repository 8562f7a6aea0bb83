import Foundation
import HTTPTypes
import Hummingbird
import Simulation

/// `/`, the v1 health routes and the v1 OPTIONS stubs (spec 3.1 to 3.5).
struct CompatibilityRoutes {
    let services: APIServices

    func register(on router: Router<ABMRequestContext>) {
        router.get("/") { _, _ in
            Response.json(["message": "Vesting Simulator API", "version": "1.0.0", "docs": "/docs"])
        }
        router.get("/api/v1/health") { _, _ in
            let uptime = ContinuousClock.now - services.startedAt
            return Response.json([
                "status": "healthy", "version": "1.0.0", "uptime_seconds": .int(uptime.components.seconds),
                "cpu_percent": .num(services.hostMetrics.cpuPercent()),
                "memory_percent": .num(services.hostMetrics.memoryPercent()),
            ])
        }
        // The original's probes answer from the same checks as /health/live and /health/ready.
        router.get("/api/v1/health/live") { _, _ in
            let live = await services.telemetry.health.report(.live).status != .fail
            return Response.json(["status": live ? "alive" : "not_alive"], status: live ? .ok : .serviceUnavailable)
        }
        router.get("/api/v1/health/ready") { _, _ in
            let report = await services.telemetry.health.report(.ready)
            let ready = report.status != .fail
            let queueOK = report.entries.filter { ["startup:complete", "job-store:writable"].contains($0.name) }
                .allSatisfy { $0.result.status != .fail }
            let body: JSONValue = [
                "status": .string(ready ? "ready" : "not_ready"),
                "checks": ["job_queue": .bool(services.jobs != nil && queueOK), "progress_streamer": .bool(services.jobs != nil)],
            ]
            return Response.json(body, status: ready ? .ok : .serviceUnavailable)
        }
        for path in ["/api/v1/simulate", "/api/v1/config/validate"] {
            router.on(RouterPath(path), method: .options) { _, _ in Response.json(["detail": "OK"]) }
        }
    }
}
