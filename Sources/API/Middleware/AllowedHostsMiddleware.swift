import HTTPTypes
import Hummingbird

/// `ABM_ALLOWED_HOSTS`: a request whose `Host` names no listed host (port ignored, case-insensitive) gets
/// 400 "Invalid host header", as Django's and Starlette's host checks answer. Guards against DNS
/// rebinding and requests routed here under a name the service does not own. Not added when the list is
/// empty.
struct AllowedHostsMiddleware: RouterMiddleware {
    typealias Context = ABMRequestContext
    let hosts: Set<String>

    init(_ hosts: [String]) { self.hosts = Set(hosts.map { $0.lowercased() }) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let authority = request.head.authority, hosts.contains(Self.hostName(authority)) else {
            throw APIError.detail(.badRequest, "Invalid host header")
        }
        return try await next(request, context)
    }

    /// `Example.com:8000` -> `example.com`; `[::1]:8000` -> `::1`.
    static func hostName(_ authority: String) -> String {
        let a = authority.lowercased()
        if a.hasPrefix("["), let close = a.firstIndex(of: "]") {
            return String(a[a.index(after: a.startIndex)..<close])
        }
        if let colon = a.lastIndex(of: ":"), a.firstIndex(of: ":") == colon { return String(a[..<colon]) }
        return a
    }
}
