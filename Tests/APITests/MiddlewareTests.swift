import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Simulation
import Testing

@testable import API

/// The original's `test_middleware_security.py` (spec 11.10) and the middleware corrections (D26, D27).
@Suite struct MiddlewareTests {
    @Test func healthIsRateLimitedAt60PerMinute() async throws {
        // 11.10.1, 11.10.2: the 61st call in a minute is refused; the window then resets.
        let clock = TestClock()
        try await withApp(clock: clock) { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<105 { statuses.append(try await client.call(.get, "/api/v1/health").status) }
            #expect(statuses.prefix(60).allSatisfy { $0 == .ok })
            #expect(statuses[60] == .tooManyRequests)
            let limited = try await client.call(.get, "/api/v1/health")
            #expect(limited.json == ["error": "Rate limit exceeded: 60 per 1 minute"])
            #expect(limited.headers[.retryAfter] != nil)
            #expect(limited.headers[.rateLimitLimit] == "60")
            #expect(limited.headers[.rateLimitRemaining] == "0")
            // Probes are exempt.
            #expect(try await client.call(.get, "/api/v1/health/live").status == .ok)
            clock.advance(60)
            #expect(try await client.call(.get, "/api/v1/health").status == .ok)
        }
    }

    @Test func defaultLimitCoversV2AndCanBeSwitchedOff() async throws {
        // D26.
        try await withApp({ $0.defaultRateLimit = RateLimit(count: 5, window: .minute) }, clock: TestClock()) { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<7 { statuses.append(try await client.call(.get, "/api/v2/abm/queue/stats").status) }
            #expect(statuses == [.ok, .ok, .ok, .ok, .ok, .tooManyRequests, .tooManyRequests])
            let first = try await client.call(.get, "/")
            #expect(first.headers[.retryAfter] != nil)
        }
        try await withApp({ $0.rateLimitEnabled = false }) { client in
            for _ in 0..<70 {
                let status = try await client.call(.get, "/api/v1/health").status
                #expect(status == .ok)
            }
        }
    }

    @Test func v1SimulateLimit() async throws {
        try await withApp(clock: TestClock()) { client in
            var last = HTTPResponse.Status.ok
            for _ in 0..<21 { last = try await client.call(.post, "/api/v1/simulate", json: v1Body(horizon: 1)).status }
            #expect(last == .tooManyRequests)
        }
    }

    @Test func requestIDs() async throws {
        try await withApp { client in
            let given = try await client.call(.get, "/", headers: [RequestIDMiddleware.header: "abc-123_X.y"])
            #expect(given.headers[RequestIDMiddleware.header] == "abc-123_X.y")
            let bad = try await client.call(.get, "/", headers: [RequestIDMiddleware.header: "no spaces allowed"])
            let generated = try #require(bad.headers[RequestIDMiddleware.header])
            #expect(generated.count == 32 && generated != "no spaces allowed")
            #expect(try await client.call(.get, "/nope").headers[RequestIDMiddleware.header] != nil)
        }
    }

    @Test func cors() async throws {
        try await withApp { client in
            // 11.10.7, 11.10.8 and spec 1.6.
            let simple = try await client.call(.get, "/api/v1/health", headers: [.origin: "http://localhost:5173"])
            #expect(simple.status == .ok)
            #expect(simple.headers[.accessControlAllowOrigin] == "http://localhost:5173")
            #expect(simple.headers[.accessControlAllowCredentials] == "true")
            let other = try await client.call(.get, "/", headers: [.origin: "http://evil.example"])
            #expect(other.headers[.accessControlAllowOrigin] == nil)
            #expect(other.headers[.accessControlAllowCredentials] == "true")
            let preflight = try await client.call(.options, "/api/v2/abm/simulate-sync", headers: [
                .origin: "http://localhost:3000", .accessControlRequestMethod: "POST", .accessControlRequestHeaders: "content-type",
            ])
            #expect(preflight.status == .ok)
            #expect(preflight.body == "OK")
            #expect(preflight.headers[.accessControlAllowMethods] == "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT")
            #expect(preflight.headers[.accessControlAllowHeaders] == "content-type")
            #expect(preflight.headers[.accessControlMaxAge] == "600")
            let denied = try await client.call(.options, "/api/v1/simulate", headers: [.origin: "http://evil.example", .accessControlRequestMethod: "POST"])
            #expect(denied.status == .badRequest)
            #expect(denied.body == "Disallowed CORS origin")
        }
    }

    /// HEAD on every GET route: the GET's status and headers, no body.
    @Test func headOnGetRoutes() async throws {
        try await withApp { client in
            for path in ["/", "/api/v1/health", "/health/live", "/api/v2/abm/queue/stats", "/openapi.json", "/api/v2/abm/jobs?limit=5"] {
                let get = try await client.call(.get, path)
                let head = try await client.call(.head, path)
                #expect(head.status == get.status, "\(path)")
                #expect(head.body.isEmpty, "\(path)")
                #expect(head.headers[.contentType] == get.headers[.contentType], "\(path)")
                let length = try #require(head.headers[.contentLength].flatMap { Int($0) }, "\(path)")
                // Health bodies carry live figures (latencies, memory), so only the others can be compared exactly.
                if !path.contains("health") { #expect(length == get.body.utf8.count, "\(path)") }
            }
            #expect(try await client.call(.head, "/nope").status == .notFound)
            // A POST-only route: the same 405 a GET gets.
            let post = try await client.call(.head, "/api/v2/abm/simulate")
            #expect(post.status == .methodNotAllowed && post.headers[.allow] == "POST")
        }
    }

    /// Error responses carry the CORS headers too, so a browser client shows the API's message.
    @Test func corsOnErrorResponses() async throws {
        try await withApp({ $0.maxRequestSize = 2048; $0.defaultRateLimit = RateLimit(count: 3, window: .minute) }) { client in
            let origin: HTTPFields = [.origin: "http://localhost:5173"]
            var seen: [HTTPResponse.Status] = []
            for (method, path, body) in [
                (HTTPRequest.Method.get, "/nope", nil as String?), (.put, "/api/v2/abm/simulate", nil),
                (.post, "/api/v2/abm/simulate-sync", #"{"token": {}}"#), (.post, "/api/v2/abm/simulate-sync", String(repeating: " ", count: 5000)),
            ] {
                let r = try await client.call(method, path, json: body, headers: origin)
                seen.append(r.status)
                #expect(r.headers[.accessControlAllowOrigin] == "http://localhost:5173", "\(method) \(path) \(r.status)")
                #expect(r.headers[.accessControlAllowCredentials] == "true")
            }
            #expect(seen == [.notFound, .methodNotAllowed, .unprocessableContent, .contentTooLarge])
            // Past the default limit: the 429 is readable by the page too.
            var limited: Reply?
            for _ in 0..<5 {
                let r = try await client.call(.get, "/api/v2/abm/queue/stats", headers: origin)
                if r.status == .tooManyRequests { limited = r }
            }
            #expect(limited?.headers[.accessControlAllowOrigin] == "http://localhost:5173")
            // Never the error mapping's internal note.
            #expect(limited?.headers[ErrorMiddleware.errorTypeHeader] == nil)
        }
    }

    /// `CORS_ORIGINS=*`: a literal `*` without credentials, and never the `null` origin.
    @Test func corsWildcardSendsNoCredentialsAndRefusesNull() async throws {
        try await withApp({ $0.corsOrigins = ["*"] }) { client in
            let any = try await client.call(.get, "/api/v1/health", headers: [.origin: "https://anywhere.example"])
            #expect(any.headers[.accessControlAllowOrigin] == "*")
            #expect(any.headers[.accessControlAllowCredentials] == nil)
            let preflight = try await client.call(.options, "/api/v2/abm/simulate", headers: [.origin: "https://anywhere.example", .accessControlRequestMethod: "POST"])
            #expect(preflight.status == .ok && preflight.headers[.accessControlAllowOrigin] == "*")
            #expect(preflight.headers[.accessControlAllowCredentials] == nil)
            let null = try await client.call(.get, "/api/v1/health", headers: [.origin: "null"])
            #expect(null.headers[.accessControlAllowOrigin] == nil && null.headers[.accessControlAllowCredentials] == nil)
            let nullPreflight = try await client.call(.options, "/api/v2/abm/simulate", headers: [.origin: "null", .accessControlRequestMethod: "POST"])
            #expect(nullPreflight.status == .badRequest)
        }
    }

    @Test func sizeLimitOnDeclaredAndStreamedBodies() async throws {
        // D27: a chunked body is limited by the bytes received, not only by Content-Length.
        try await withApp({ $0.maxRequestSize = 2048 }) { client in
            let big = String(repeating: " ", count: 5000)
            let declared = try await client.call(.post, "/api/v2/abm/simulate-sync", json: "{}" + big)
            #expect(declared.status == .contentTooLarge)
            #expect(declared.json == ["status": "error", "error_type": "request_too_large", "message": "Request body too large. Maximum allowed size is 2048 bytes."])
            let streamed = try await client.execute(
                uri: "/api/v2/abm/simulate-sync", method: .post, headers: [.contentType: "application/json", .transferEncoding: "chunked"],
                body: ByteBuffer(string: "{}" + big)
            ) { $0.status }
            #expect(streamed == .contentTooLarge)
            let bad = try await client.call(.post, "/api/v2/abm/simulate-sync", json: "{}", headers: [.contentLength: "abc"])
            #expect(bad.status.code < 500)
        }
    }

    @Test func unknownRoutesAndMethods() async throws {
        try await withApp { client in
            // 11.10.9, 11.10.10.
            let missing = try await client.call(.get, "/does/not/exist")
            #expect(missing.status == .notFound)
            #expect(missing.json == ["detail": "Not Found"])
            let wrong = try await client.call(.delete, "/api/v1/health")
            #expect(wrong.status == .methodNotAllowed)
            #expect(wrong.json == ["detail": "Method Not Allowed"])
            #expect(wrong.headers[.allow] == "GET")
            #expect(try await client.call(.put, "/api/v2/abm/jobs/abc").headers[.allow] == "DELETE")
        }
    }

    @Test func badBodies() async throws {
        try await withApp { client in
            // 11.10.11, 11.10.12, 11.10.16, 11.10.17.
            let malformed = try await client.call(.post, "/api/v2/abm/simulate-sync", json: #"{"token": "#)
            #expect(malformed.status == .unprocessableContent)
            #expect(malformed.json["detail"]?.arrayValue?[0]["type"] == "json_invalid")
            #expect(malformed.json["detail"]?.arrayValue?[0]["loc"] == ["body", 10])
            let text = try await client.call(.post, "/api/v2/abm/simulate-sync", json: "hello", headers: [.contentType: "text/plain"])
            #expect(text.status == .unprocessableContent)
            #expect(text.json["detail"]?.arrayValue?[0]["type"] == "model_attributes_type")
            let none = try await client.execute(uri: "/api/v2/abm/simulate-sync", method: .post) { $0.status }
            #expect(none == .unprocessableContent)
            let null = try await client.call(.post, "/api/v2/abm/simulate-sync", json: "null")
            #expect(null.body == #"{"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}"#)
        }
    }

    @Test func noInputProducesAServerError() async throws {
        // Truncated and invalid JSON, wrong types, NaN and huge numbers, deep nesting, invalid ids, odd routes.
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        let valid = abmBody()
        var bodies: [String] = [deep, "NaN", "[]", "1e999", #"{"token": null, "buckets": null}"#, "\u{0}", "\"str\""]
        for cut in stride(from: 1, to: valid.count, by: 7) { bodies.append(String(valid.prefix(cut))) }
        for (field, value) in [("total_supply", "NaN"), ("total_supply", "1e400"), ("horizon_months", "\"12\""), ("horizon_months", "true"),
                               ("total_supply", "[]"), ("name", "{}"), ("start_date", "20260101"), ("horizon_months", "99999999999999999999")] {
            bodies.append(valid.replacingOccurrences(of: #""\#(field)": "#, with: #""\#(field)": \#(value), "x_\#(field)": "#))
        }
        let allBodies = bodies
        try await withApp({ $0.rateLimitEnabled = false }) { client in
            for path in ["/api/v2/abm/simulate-sync", "/api/v2/abm/simulate", "/api/v2/abm/validate", "/api/v2/abm/monte-carlo/simulate", "/api/v1/simulate", "/api/v1/config/validate"] {
                for body in allBodies {
                    let r = try await client.call(.post, path, json: body)
                    #expect(r.status.code < 500, "\(path) \(body.prefix(80)) -> \(r.status) \(r.body.prefix(200))")
                }
            }
            for uri in ["/api/v2/abm/jobs/%00/status", "/api/v2/abm/jobs/..%2F..%2Fetc/results", "/" + String(repeating: "a", count: 10_000),
                        "/api/v2/abm/jobs?x=" + String(repeating: "%", count: 100), "/api/v2/abm/monte-carlo/results/%F0%9F%98%80"] {
                for method in [HTTPRequest.Method.get, .post, .delete, .put, .patch] {
                    let r = try await client.call(method, uri)
                    #expect(r.status.code < 500, "\(method) \(uri.prefix(60)) -> \(r.status)")
                }
            }
        }
    }

    @Test func rootAndReadiness() async throws {
        try await withApp { client in
            // 11.10.3, 11.10.21 to 11.10.23.
            #expect(try await client.call(.get, "/").json == ["message": "Vesting Simulator API", "version": "1.0.0", "docs": "/docs"])
            #expect(try await client.call(.get, "/api/v1/health/live").json == ["status": "alive"])
            let ready = try await client.call(.get, "/api/v1/health/ready")
            #expect(ready.status == .ok)
            #expect(ready.json == ["status": "ready", "checks": ["job_queue": true, "progress_streamer": true]])
            let stats = try await client.call(.get, "/api/v2/abm/queue/stats")
            #expect(stats.json["total_jobs"] != nil && stats.json["max_concurrent_jobs"] != nil)
            // 11.10.13, 11.10.14.
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<20 { group.addTask { try await client.call(.get, "/api/v1/health").status } }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .ok || $0 == .tooManyRequests })
        }
    }
}

/// The rest of spec 11.10 and 11.8.
@Suite struct RemainingOriginalTests {
    @Test func hugeAndOddRequests() async throws {
        try await withApp({ $0.rateLimitEnabled = false }) { client in
            // 11.10.5: 10,000 buckets.
            let many = (0..<10_000).map { #"{"bucket": "B\#($0)", "allocation": 0.001, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 1}"# }
            let r5 = try await client.call(.post, "/api/v1/simulate", json: v1Body(buckets: "[\(many.joined(separator: ","))]"))
            #expect([413, 422].contains(r5.status.code))
            // 11.10.6: 100 buckets of 1e10 tokens, horizon 120.
            let big = (0..<100).map { #"{"bucket": "B\#($0)", "allocation": 10000000000, "tge_unlock_pct": 10, "cliff_months": 1, "vesting_months": 12}"# }
            let r6 = try await client.call(.post, "/api/v1/simulate", json: v1Body(horizon: 120, supply: "1000000000000", mode: "tokens", buckets: "[\(big.joined(separator: ","))]"))
            #expect([200, 413, 422].contains(r6.status.code))
            // 11.10.18: a 10,000-character query string; 11.10.19: URL-encoded special characters.
            let q = try await client.call(.get, "/api/v1/health/live?x=" + String(repeating: "a", count: 10_000))
            #expect([200, 400, 414].contains(q.status.code))
            let special = try await client.call(.get, "/api/v1/health/live?q=%3Cscript%3E%20%26%20%22quotes%22%20%F0%9F%98%80")
            #expect([200, 400, 404].contains(special.status.code))
        }
    }

    @Test func engineFromConfig() throws {
        // 11.8.1 and 11.8.2.
        let three = (0..<3).map { #"{"bucket": "C\#($0)", "allocation": 30, "tge_unlock_pct": 20, "cliff_months": \#($0), "vesting_months": 8}"# }
        let r = try ABMSimulation.run(try ABMRequestDecoder.decode(bytes: Array(abmBody(horizon: 12, buckets: "[\(three.joined(separator: ","))]", abm: #""agents_per_cohort": 10, "seed": 42"#).utf8)).get())
        #expect(r.globalMetrics.count == 12)
        #expect(Set(r.globalMetrics.map(\.price)).count > 1)
        #expect(r.globalMetrics.last!.circulatingSupply > r.globalMetrics.first!.circulatingSupply)
        #expect(r.summary.totalTokensSold > 0)
        let two = (0..<2).map { #"{"bucket": "D\#($0)", "allocation": 50, "tge_unlock_pct": 0, "cliff_months": 0, "vesting_months": 6}"# }
        let r2 = try ABMSimulation.run(try ABMRequestDecoder.decode(bytes: Array(abmBody(buckets: "[\(two.joined(separator: ","))]", abm: #""agents_per_cohort": 20"#).utf8)).get())
        #expect(r2.globalMetrics.count == 6 && r2.numAgents == 40)
    }
}
