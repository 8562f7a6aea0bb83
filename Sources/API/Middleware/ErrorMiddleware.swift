import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// The edge where every error becomes a response: `APIError`s by their own mapping, unknown paths as 404
/// `{"detail":"Not Found"}`, known paths with another method as 405 with `Allow`, and anything unexpected as
/// a logged 500 `{"detail":"Internal Server Error"}`.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ABMRequestContext
    let routes: RouteTable
    /// Carry the error type and message of a 5xx from here to the access log's error event; removed before
    /// sending.
    static let errorTypeHeader = HTTPField.Name("X-ABM-Error-Type")!
    static let errorMessageHeader = HTTPField.Name("X-ABM-Error-Message")!

    /// The error's text as one header-safe line (printable ASCII, at most 300 characters).
    static func note(_ error: any Error) -> String {
        String(String(describing: error).unicodeScalars.prefix(300).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response()
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = routes.methods(forPath: request.uri.path)
            if !allowed.isEmpty {
                let allow = allowed.map(\.rawValue).sorted().joined(separator: ", ")
                return .json(["detail": "Method Not Allowed"], status: .methodNotAllowed, headers: [.allow: allow])
            }
            return .json(["detail": "Not Found"], status: .notFound)
        } catch let error as any HTTPResponseError {
            var headers: HTTPFields = [:]
            if error.status.code >= 500 {
                headers[Self.errorTypeHeader] = String(describing: type(of: error))
                headers[Self.errorMessageHeader] = Self.note(error)
            }
            return .json(["detail": .string(error.status.reasonPhrase)], status: error.status, headers: headers)
        } catch {
            return .json(
                ["detail": "Internal Server Error"], status: .internalServerError,
                headers: [Self.errorTypeHeader: String(describing: type(of: error)), Self.errorMessageHeader: Self.note(error)])
        }
    }
}

/// The registered routes, for 405 answers (and the OpenAPI check).
final class RouteTable: Sendable {
    private let storage: Mutex<[(method: HTTPRequest.Method, segments: [String])]>

    init(_ routes: [(HTTPRequest.Method, String)]) {
        storage = Mutex(routes.map { ($0.0, RouteTable.segments($0.1)) })
    }

    func set(_ routes: [(HTTPRequest.Method, String)]) {
        storage.withLock { $0 = routes.map { ($0.0, RouteTable.segments($0.1)) } }
    }

    var routes: [(method: HTTPRequest.Method, segments: [String])] { storage.withLock { $0 } }

    static func segments(_ path: String) -> [String] { path.split(separator: "/").map(String.init) }

    func methods(forPath path: String) -> [HTTPRequest.Method] {
        let parts = RouteTable.segments(path)
        var out: [HTTPRequest.Method] = []
        for r in routes where r.segments.count == parts.count {
            let match = zip(r.segments, parts).allSatisfy { pattern, part in
                pattern.hasPrefix(":") || pattern.hasPrefix("{") || pattern == part
            }
            if match && !out.contains(r.method) { out.append(r.method) }
        }
        return out
    }
}
