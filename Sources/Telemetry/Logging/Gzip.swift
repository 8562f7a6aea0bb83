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
        guard FileManager.default.createFile(atPath: tmp, contents: nil), let output = FileHandle(forWritingAtPath: tmp) else {
            throw Failure.io("cannot write \(tmp)")
        }
        // A failed copy (a full disk) leaves the original in place and no partial .gz behind.
        var finished = false
        defer {
            if !finished {
                try? output.close()
                try? FileManager.default.removeItem(atPath: tmp)
            }
        }
        var stream = z_stream()
        var rc = deflateInit2_(&stream, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw Failure.zlib(rc) }
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: 64 * 1024)
        var done = false
        while !done {
            // The throwing forms: FileHandle's older read and write trap on I/O errors (ENOSPC) on Linux.
            let chunk = try input.read(upToCount: 256 * 1024) ?? Data()
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
                        if produced > 0 { try output.write(contentsOf: Data(outBuf[0..<produced])) }
                    }
                } while stream.avail_out == 0
            }
            done = flush == Z_FINISH
        }
        try output.synchronize()
        try output.close()
        finished = true
        try FileManager.default.moveItem(atPath: tmp, toPath: target)
        try FileManager.default.removeItem(atPath: path)
    }
}
