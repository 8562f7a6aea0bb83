import HTTPTypes
import Hummingbird

/// Accepts a client's `X-Request-ID` when it is sane (1 to 128 characters of letters, digits, `.`, `_`,
/// `-`), otherwise generates one; echoes it on the response and puts it on every log line of the request.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = ABMRequestContext
    static let header = HTTPField.Name("X-Request-ID")!

    static func isValid(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 128
            && s.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x2E
                    || c == 0x5F
            }
    }

    /// 128 random bits as 32 hex digits (two draws from the system generator).
    static func generate() -> String {
        var g = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 32)
        for half in 0..<2 {
            var v = g.next()
            for k in 0..<16 {
                out[half * 16 + k] = hex[Int(v & 15)]
                v >>= 4
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id = request.headers[Self.header].flatMap { Self.isValid($0) ? $0 : nil } ?? Self.generate()
        context.requestID = id
        context.logger[metadataKey: "request_id"] = .string(id)
        var response = try await next(request, context)
        response.headers[Self.header] = id
        return response
    }
}
