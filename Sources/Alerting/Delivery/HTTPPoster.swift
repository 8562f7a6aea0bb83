import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal HTTP/1.1 client for plain `http://` URLs: one POST, one response status, a hard deadline.
/// Runs its blocking socket calls on a thread of its own, never on the Swift concurrency pool (nor on
/// Dispatch's workers, which share that pool on Linux).
public struct HTTPPoster: Sendable {
    public struct Target: Sendable, Equatable {
        public var host: String
        public var port: UInt16
        public var path: String

        /// Parses `http://host[:port][/prefix]`; other schemes are rejected.
        public init?(url: String) {
            guard url.hasPrefix("http://") else { return nil }
            var rest = url.dropFirst(7)
            var path = ""
            if let slash = rest.firstIndex(of: "/") {
                path = String(rest[slash...])
                rest = rest[..<slash]
            }
            while path.hasSuffix("/") { path.removeLast() }
            var host = String(rest)
            var port: UInt16 = 80
            if host.hasPrefix("[") , let close = host.firstIndex(of: "]") {
                let after = host[host.index(after: close)...]
                if after.hasPrefix(":") {
                    guard let p = UInt16(after.dropFirst()) else { return nil }
                    port = p
                }
                host = String(host[host.index(after: host.startIndex)..<close])
            } else if let colon = host.lastIndex(of: ":") {
                guard let p = UInt16(host[host.index(after: colon)...]) else { return nil }
                port = p
                host = String(host[..<colon])
            }
            guard !host.isEmpty else { return nil }
            self.host = host
            self.port = port
            self.path = path
        }
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
    }

    public let timeout: Double

    public init(timeout: Double = 5) { self.timeout = timeout }

    /// POSTs `body` as JSON; returns the response status code. Cancellation returns at once with
    /// `CancellationError`; the blocking exchange on its own thread ends by itself within `timeout`.
    public func post(_ target: Target, path: String, body: [UInt8]) async throws -> Int {
        let timeout = self.timeout
        let once = ResumeOnce()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { k in
                once.set(k)
                Thread {
                    do { once.resume(.success(try Self.blockingPost(target, path: path, body: body, timeout: timeout))) } catch {
                        once.resume(.failure(error))
                    }
                }.start()
            }
        } onCancel: {
            once.resume(.failure(CancellationError()))
        }
    }

    /// A continuation resumed by whichever comes first, the exchange or a cancellation.
    final class ResumeOnce: Sendable {
        private let state = Mutex<(k: CheckedContinuation<Int, any Error>?, early: Result<Int, any Error>?, done: Bool)>((nil, nil, false))
        func set(_ k: CheckedContinuation<Int, any Error>) {
            let early = state.withLock { s -> Result<Int, any Error>? in
                if let e = s.early { return e }
                s.k = k
                return nil
            }
            if let early { k.resume(with: early) }
        }
        func resume(_ r: Result<Int, any Error>) {
            let k = state.withLock { s -> CheckedContinuation<Int, any Error>? in
                if s.done { return nil }
                s.done = true
                if s.k == nil { s.early = r }
                return s.k
            }
            k?.resume(with: r)
        }
    }

    static func blockingPost(_ target: Target, path: String, body: [UInt8], timeout: Double) throws -> Int {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(target.host, String(target.port), &hints, &result)
        guard rc == 0, let first = result else { throw Failure(message: "cannot resolve \(target.host): \(String(cString: gai_strerror(rc)))") }
        defer { freeaddrinfo(result) }
        let deadline = Date().addingTimeInterval(timeout)
        var lastError = "no address"
        var info: UnsafeMutablePointer<addrinfo>? = first
        while let ai = info {
            info = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            guard connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 else {
                lastError = "connect to \(target.host):\(target.port): \(String(cString: strerror(errno)))"
                continue
            }
            let hostHeader = target.host.contains(":") ? "[\(target.host)]:\(target.port)" : "\(target.host):\(target.port)"
            let head = "POST \(target.path)\(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nUser-Agent: abm-service\r\nConnection: close\r\n\r\n"
            let request = Array(head.utf8) + body
            var sent = 0
            while sent < request.count {
                let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw Failure(message: "send to \(hostHeader): \(String(cString: strerror(errno)))") }
                sent += n
            }
            var response: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !response.contains(10) {
                guard Date() < deadline else { throw Failure(message: "no response from \(hostHeader) within \(timeout) s") }
                let n = recv(fd, &buffer, buffer.count, 0)
                guard n > 0 else { throw Failure(message: "no response from \(hostHeader): \(n == 0 ? "connection closed" : String(cString: strerror(errno)))") }
                response += buffer[0..<n]
            }
            let statusLine = String(decoding: response.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
            let parts = statusLine.split(separator: " ")
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let code = Int(parts[1]) else {
                throw Failure(message: "invalid response from \(hostHeader): \(statusLine)")
            }
            return code
        }
        throw Failure(message: lastError)
    }
}
