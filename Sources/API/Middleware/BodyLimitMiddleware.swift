import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Rejects a declared `Content-Length` over `MAX_REQUEST_SIZE` before the body is read (413 with the
/// original's body). Bodies without a length (chunked) are limited by `BodyReader` as they stream in.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = ABMRequestContext
    let limit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let declared = request.headers[.contentLength] {
            guard let n = Int(declared.trimmingCharacters(in: .whitespaces)), n >= 0 else {
                throw APIError.detail(.badRequest, "Invalid Content-Length header")
            }
            if n > limit { throw APIError.payloadTooLarge(limit: limit) }
        }
        return try await next(request, context)
    }
}

/// Reads a request body, counting the bytes actually received, and stops with 413 past the limit.
struct BodyReader: Sendable {
    let limit: Int

    /// A body the client broke off, or framed wrongly (a bad chunk size), is the client's error: a 400, never a
    /// 500 counted against the service's error budget.
    func read(_ request: Request) async throws -> [UInt8] {
        var out: [UInt8] = []
        do {
            for try await var chunk in request.body {
                if out.count + chunk.readableBytes > limit { throw APIError.payloadTooLarge(limit: limit) }
                out.append(contentsOf: chunk.readBytes(length: chunk.readableBytes) ?? [])
            }
        } catch let error as APIError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw APIError.detail(
                .badRequest, "The request body could not be read: the upload was cut short or its framing (chunk sizes) is invalid.")
        }
        return out
    }
}
