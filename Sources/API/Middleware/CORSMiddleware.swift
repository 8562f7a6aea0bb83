import HTTPTypes
import Hummingbird

/// CORS as the original answered it (spec 1.6): an allow-list of origins with credentials; a preflight from
/// an allowed origin gets 200 `OK`, from any other origin 400 `Disallowed CORS origin`. Every response the
/// policy allows carries the headers, errors included (the middleware sits outside the error mapping), so a
/// browser client shows the API's message rather than "Network Error". `CORS_ORIGINS=*` answers a literal
/// `*` without credentials (browsers refuse credentials with a wildcard, and reflecting any origin with
/// credentials would let every site act as the user); the `null` origin (sandboxed frames, files) is never
/// allowed.
struct CORSMiddleware: RouterMiddleware {
    typealias Context = ABMRequestContext
    let origins: Set<String>
    let allowAny: Bool

    init(origins: [String]) {
        self.origins = Set(origins)
        self.allowAny = origins.contains("*")
    }

    func allowed(_ origin: String) -> Bool { origin != "null" && (allowAny || origins.contains(origin)) }

    /// The allow-origin and credentials headers for an allowed origin.
    func grant(_ origin: String, into headers: inout HTTPFields) {
        if allowAny {
            headers[.accessControlAllowOrigin] = "*"
        } else {
            headers[.accessControlAllowOrigin] = origin
            headers[.accessControlAllowCredentials] = "true"
            headers[.vary] = "Origin"
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        if request.method == .options, let method = request.headers[.accessControlRequestMethod] {
            guard allowed(origin), HTTPRequest.Method(method) != nil else {
                return .text("Disallowed CORS origin", status: .badRequest)
            }
            var headers: HTTPFields = [
                .accessControlAllowMethods: "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT", .accessControlMaxAge: "600",
            ]
            grant(origin, into: &headers)
            if let requested = request.headers[.accessControlRequestHeaders] {
                headers[.accessControlAllowHeaders] = requested
            }
            return Response(status: .ok, headers: headers.merging([.contentType: "text/plain; charset=utf-8"]),
                            body: .init(byteBuffer: .init(string: "OK")))
        }
        var response = try await next(request, context)
        if allowed(origin) {
            grant(origin, into: &response.headers)
        } else if !allowAny {
            // As the original: credentials are announced, the origin is not.
            response.headers[.accessControlAllowCredentials] = "true"
        }
        return response
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var out = self
        for f in other { out[f.name] = f.value }
        return out
    }
}
