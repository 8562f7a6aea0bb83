import Foundation

/// `ABM_TRUSTED_PROXIES`: addresses and CIDR ranges (IPv4 and IPv6) of the reverse proxies in front of the
/// service. Only a request whose peer is one of them has its client address taken from `X-Forwarded-For` or
/// `Forwarded`; from anyone else those headers are ignored, so a client cannot pick its own rate-limit key.
struct TrustedProxies: Sendable, Equatable {
    struct Range: Sendable, Equatable {
        var bytes: [UInt8]
        var prefix: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var bits = prefix
            for (a, b) in zip(address, bytes) {
                if bits <= 0 { return true }
                let mask: UInt8 = bits >= 8 ? 0xFF : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if a & mask != b & mask { return false }
                bits -= 8
            }
            return true
        }
    }

    var ranges: [Range]

    init(_ ranges: [Range] = []) { self.ranges = ranges }

    /// Parses a comma-separated list; nil when an entry is not an address or CIDR.
    static func parse(_ list: String) -> TrustedProxies? {
        var out: [Range] = []
        for raw in list.split(separator: ",") {
            let entry = raw.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { continue }
            let parts = entry.split(separator: "/", maxSplits: 1).map(String.init)
            guard let bytes = address(parts[0]) else { return nil }
            let width = bytes.count * 8
            var prefix = width
            if parts.count == 2 {
                guard let p = Int(parts[1]), (0...width).contains(p) else { return nil }
                prefix = p
            }
            out.append(Range(bytes: bytes, prefix: prefix))
        }
        return TrustedProxies(out)
    }

    /// The bytes of an IPv4 or IPv6 address (an IPv4-mapped IPv6 address counts as its IPv4 address).
    static func address(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            let b = withUnsafeBytes(of: &v6) { Array($0) }
            if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF { return Array(b[12...]) }
            return b
        }
        return nil
    }

    var isEmpty: Bool { ranges.isEmpty }

    func trusts(_ address: String) -> Bool {
        guard !ranges.isEmpty, let bytes = Self.address(address) else { return false }
        return ranges.contains { $0.contains(bytes) }
    }

    /// The client behind a trusted peer: the rightmost address of the forwarding chain that is not itself a
    /// trusted proxy (`X-Forwarded-For` first, else `Forwarded: for=`), or the peer when there is none.
    func client(peer: String, forwardedFor: String?, forwarded: String?) -> String {
        guard trusts(peer) else { return peer }
        var chain: [String] = []
        if let xff = forwardedFor {
            chain = xff.split(separator: ",").map { Self.clean(String($0)) }
        } else if let fwd = forwarded {
            for element in fwd.split(separator: ",") {
                for pair in element.split(separator: ";") {
                    let kv = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    if kv.count == 2, kv[0].lowercased() == "for" { chain.append(Self.clean(kv[1])) }
                }
            }
        }
        for hop in chain.reversed() where !trusts(hop) {
            return Self.address(hop) != nil ? hop : peer
        }
        return chain.first.flatMap { Self.address($0) != nil ? $0 : nil } ?? peer
    }

    /// `"[2001:db8::1]:4711"` -> `2001:db8::1`, `1.2.3.4:80` -> `1.2.3.4`, quotes and spaces dropped.
    static func clean(_ raw: String) -> String {
        var s = raw.trimmingCharacters(in: .whitespaces)
        if s.hasPrefix("\"") && s.hasSuffix("\"") && s.count >= 2 { s = String(s.dropFirst().dropLast()) }
        if s.hasPrefix("["), let close = s.firstIndex(of: "]") { return String(s[s.index(after: s.startIndex)..<close]) }
        if s.filter({ $0 == ":" }).count == 1, let colon = s.firstIndex(of: ":") { return String(s[..<colon]) }
        return s
    }
}
