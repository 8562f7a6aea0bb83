/// A JSON document described lazily: its long arrays produce their elements one at a time while they are
/// written, so a result of any size is encoded in bounded chunks without its value tree ever existing
/// whole. The bytes are exactly those `JSONWriter` writes for `value` (one description, two encodings).
public indirect enum JSONStream: Sendable {
    case value(JSONValue)
    case object([(key: String, value: JSONStream)])
    case array(count: Int, element: @Sendable (Int) -> JSONValue)

    /// An array whose elements are `items[i].json()`, built as they are written.
    public static func elements<T: Sendable>(_ items: [T], _ json: @escaping @Sendable (T) -> JSONValue) -> JSONStream {
        .array(count: items.count) { json(items[$0]) }
    }

    /// An array of elements, or `null` when there are none to report.
    public static func elements<T: Sendable>(_ items: [T]?, _ json: @escaping @Sendable (T) -> JSONValue) -> JSONStream {
        items.map { elements($0, json) } ?? .value(.null)
    }

    /// The whole value tree; for small documents and tests.
    public var value: JSONValue {
        switch self {
        case .value(let v): return v
        case .object(let entries): return .object(JSONObject(entries.map { ($0.key, $0.value.value) }))
        case .array(let count, let element): return .array((0..<count).map(element))
        }
    }

    /// Writes the compact encoding, handing `emit` a chunk each time at least `chunkSize` bytes are buffered
    /// and the rest at the end. Memory is one chunk plus one array element.
    public func write<E: Error>(chunkSize: Int = 64 << 10, emit: ([UInt8]) throws(E) -> Void) throws(E) {
        var out: [UInt8] = []
        out.reserveCapacity(min(chunkSize, 1 << 18) + 4096)
        try write(into: &out, chunkSize: chunkSize, emit: emit)
        if !out.isEmpty { try emit(out) }
    }

    /// The whole encoding at once.
    public var bytes: [UInt8] {
        var all: [UInt8] = []
        write(chunkSize: .max) { (chunk: [UInt8]) -> Void in all = chunk }
        return all
    }

    private func write<E: Error>(into out: inout [UInt8], chunkSize: Int, emit: ([UInt8]) throws(E) -> Void) throws(E) {
        switch self {
        case .value(let v):
            JSONWriter.write(v, into: &out)
        case .object(let entries):
            if entries.isEmpty {
                out.append(contentsOf: "{}".utf8)
                return
            }
            out.append(UInt8(ascii: "{"))
            for (n, entry) in entries.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.writeString(entry.key, into: &out)
                out.append(UInt8(ascii: ":"))
                try entry.value.write(into: &out, chunkSize: chunkSize, emit: emit)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let count, let element):
            if count == 0 {
                out.append(contentsOf: "[]".utf8)
                return
            }
            out.append(UInt8(ascii: "["))
            for i in 0..<count {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.write(element(i), into: &out)
                if out.count >= chunkSize {
                    try emit(out)
                    out.removeAll(keepingCapacity: true)
                }
            }
            out.append(UInt8(ascii: "]"))
        }
    }
}
