import HTTPTypes
import Hummingbird

/// CORS exactly as the original answered it (spec 1.6): an allow-list of origins with credentials; a
/// preflight from an allowed origin gets 200 `OK`, from any other origin 400 `Disallowed CORS origin`.
struct CORSMiddleware: RouterMiddleware {
    typealias Context = ABMRequestContext
    let origins: Set<String>
    let allowAny: Bool

    init(origins: [String]) {
        self.origins = Set(origins)
        self.allowAny = origins.contains("*")
    }

    func allowed(_ origin: String) -> Bool { allowAny || origins.contains(origin) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        if request.method == .options, let method = request.headers[.accessControlRequestMethod] {
            guard allowed(origin), HTTPRequest.Method(method) != nil else {
                return .text("Disallowed CORS origin", status: .badRequest)
            }
            var headers: HTTPFields = [
                .accessControlAllowOrigin: origin, .accessControlAllowCredentials: "true",
                .accessControlAllowMethods: "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT", .accessControlMaxAge: "600",
                .vary: "Origin",
            ]
            if let requested = request.headers[.accessControlRequestHeaders] {
                headers[.accessControlAllowHeaders] = requested
            }
            return Response(status: .ok, headers: headers.merging([.contentType: "text/plain; charset=utf-8"]),
                            body: .init(byteBuffer: .init(string: "OK")))
        }
        var response = try await next(request, context)
        response.headers[.accessControlAllowCredentials] = "true"
        if allowed(origin) {
            response.headers[.accessControlAllowOrigin] = origin
            response.headers[.vary] = "Origin"
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
