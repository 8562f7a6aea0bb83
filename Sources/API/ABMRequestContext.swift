import Hummingbird
import NIOCore

/// Per-request state: the request id, the client address for rate limiting, and Hummingbird's core storage.
public struct ABMRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address (`127.0.0.1` when unknown, as in the original).
    public let peerAddress: String
    /// The client's address: the peer's, or behind a trusted proxy the one it forwards for
    /// (`ClientAddressMiddleware`).
    public var clientAddress: String
    /// Set by `RequestIDMiddleware`.
    public var requestID = ""
    /// The connection, so long work can stop once its client has gone (`isActive` is safe from any thread).
    public let connection: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress ?? "127.0.0.1"
        clientAddress = peerAddress
        connection = source.channel
    }

    /// Bodies are limited by `BodyReader` with the configured `MAX_REQUEST_SIZE`, not by Hummingbird.
    public var maxUploadSize: Int { .max }
}
