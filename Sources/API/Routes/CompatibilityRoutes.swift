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
        router.get("/api/v1/health/live") { _, _ in Response.json(["status": "alive"]) }
        router.get("/api/v1/health/ready") { _, _ in
            var ready = false
            if let jobs = services.jobs { ready = await jobs.readiness().ready }
            let body: JSONValue = [
                "status": .string(ready ? "ready" : "not_ready"),
                "checks": ["job_queue": .bool(ready), "progress_streamer": .bool(services.jobs != nil)],
            ]
            return Response.json(body, status: ready ? .ok : .serviceUnavailable)
        }
        for path in ["/api/v1/simulate", "/api/v1/config/validate"] {
            router.on(RouterPath(path), method: .options) { _, _ in Response.json(["detail": "OK"]) }
        }
    }
}
