import CZlib
import Foundation

/// Gzips a file to `path.gz` with zlib and removes the original once the copy is complete.
enum Gzip {
    enum Failure: Error { case zlib(Int32), io(String) }

    static func compressFile(_ path: String) throws {
        guard let input = FileHandle(forReadingAtPath: path) else { throw Failure.io("cannot read \(path)") }
        defer { try? input.close() }
        let target = path + ".gz"
        let tmp = target + ".tmp"
        FileManager.default.createFile(atPath: tmp, contents: nil)
        guard let output = FileHandle(forWritingAtPath: tmp) else { throw Failure.io("cannot write \(tmp)") }
        var stream = z_stream()
        var rc = deflateInit2_(&stream, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw Failure.zlib(rc) }
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: 64 * 1024)
        var done = false
        while !done {
            let chunk = input.readData(ofLength: 256 * 1024)
            let flush = chunk.isEmpty ? Z_FINISH : Z_NO_FLUSH
            var bytes = [UInt8](chunk)
            try bytes.withUnsafeMutableBufferPointer { inBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = UInt32(inBuf.count)
                repeat {
                    try out.withUnsafeMutableBufferPointer { outBuf in
                        stream.next_out = outBuf.baseAddress
                        stream.avail_out = UInt32(outBuf.count)
                        rc = deflate(&stream, flush)
                        guard rc != Z_STREAM_ERROR else { throw Failure.zlib(rc) }
                        let produced = outBuf.count - Int(stream.avail_out)
                        if produced > 0 { output.write(Data(outBuf[0..<produced])) }
                    }
                } while stream.avail_out == 0
            }
            done = flush == Z_FINISH
        }
        try output.synchronize()
        try output.close()
        try FileManager.default.moveItem(atPath: tmp, toPath: target)
        try FileManager.default.removeItem(atPath: path)
    }
}
