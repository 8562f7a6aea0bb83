import HTTPTypes
import Hummingbird

/// Sets the request's client address (the rate limiter's key, the per-client job quota's, the access log's
/// `client`): the peer, or behind a trusted proxy (`ABM_TRUSTED_PROXIES`) the client it forwards for.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = ABMRequestContext
    let trusted: TrustedProxies

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !trusted.isEmpty else { return try await next(request, context) }
        var context = context
        context.clientAddress = trusted.client(
            peer: context.peerAddress, forwardedFor: request.headers[.xForwardedFor], forwarded: request.headers[.forwarded])
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let forwarded = HTTPField.Name("Forwarded")!
}
