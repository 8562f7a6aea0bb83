import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Appends whole log lines to a file and rotates it (by size, optionally daily), keeping `backups` old
/// files and gzipping them off the hot path.
///
/// Lines are buffered and written in batches (at 64 KiB, every `flushInterval`, and on `flush()`), always at
/// line boundaries and under one lock, so concurrent writers never interleave and a rotation never splits,
/// loses or repeats a line. `reopen()` (on SIGHUP) lets logrotate's `create` mode move the file away.
/// When the disk or the file fails, lines are counted as dropped, the problem is reported once on stderr,
/// and writing resumes by itself when the file can be written again.
public final class RotatingFileWriter: @unchecked Sendable {
    public let path: String
    public let policy: RotationPolicy
    public let mode: mode_t
    private let stats: LogStatistics
    private let now: @Sendable () -> TimeInterval
    private let lock = NSLock()
    private var fd: Int32 = -1
    private var size = 0
    private var openedAt: TimeInterval = 0
    private var buffer: [UInt8] = []
    private var bufferLines = 0
    private var failing = false
    private var sequence = 0
    private let maintenance = DispatchQueue(label: "abm.log.maintenance")
    private var timer: DispatchSourceTimer?
    static let flushThreshold = 64 * 1024

    public init(
        path: String, policy: RotationPolicy = RotationPolicy(), mode: mode_t = 0o640, stats: LogStatistics = LogStatistics(),
        flushInterval: Double = 0.1, now: @escaping @Sendable () -> TimeInterval = { Date().timeIntervalSince1970 }
    ) {
        self.path = path
        self.policy = policy
        self.mode = mode
        self.stats = stats
        self.now = now
        buffer.reserveCapacity(Self.flushThreshold * 2)
        if flushInterval > 0 {
            let t = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "abm.log.flush"))
            t.schedule(deadline: .now() + flushInterval, repeating: flushInterval)
            t.setEventHandler { [weak self] in self?.flush() }
            t.resume()
            timer = t
        }
    }

    deinit {
        timer?.cancel()
        flush()
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Queues one line (it must end with a newline).
    public func write(_ line: [UInt8]) {
        lock.lock()
        buffer.append(contentsOf: line)
        bufferLines += 1
        if buffer.count >= Self.flushThreshold { flushLocked() }
        lock.unlock()
    }

    public func flush() {
        lock.lock()
        flushLocked()
        lock.unlock()
    }

    /// Closes and reopens the file at `path` (after logrotate moved it, or on SIGHUP).
    public func reopen() {
        lock.lock()
        flushLocked()
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
        lock.unlock()
    }

    /// Flushes, stops the timer and waits for pending compression.
    public func close() {
        timer?.cancel()
        timer = nil
        reopen()
        waitForMaintenance()
    }

    /// Waits until every queued rename and compression has finished.
    public func waitForMaintenance() { maintenance.sync {} }

    private func openLocked() -> Bool {
        let dir = PathString.parent(of: path)
        if dir != "." { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let f = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode)
        guard f >= 0 else {
            report("cannot open \(path): \(String(cString: strerror(errno)))")
            return false
        }
        fchmod(f, mode)
        var st = stat()
        fstat(f, &st)
        fd = f
        size = Int(st.st_size)
        openedAt = size > 0 ? Double(st.st_mtim.tv_sec) : now()
        return true
    }

    private func flushLocked() {
        guard !buffer.isEmpty else { return }
        defer {
            buffer.removeAll(keepingCapacity: true)
            bufferLines = 0
        }
        if fd < 0 && !openLocked() {
            stats.dropped(bufferLines)
            return
        }
        if policy.shouldRotate(size: size, pending: buffer.count, openedAt: openedAt, now: now()) != nil {
            rotateLocked()
            if fd < 0 && !openLocked() {
                stats.dropped(bufferLines)
                return
            }
        }
        var offset = 0
        let total = buffer.count
        let failed: Int32? = buffer.withUnsafeBytes { raw -> Int32? in
            while offset < total {
                let n = Glibc.write(fd, raw.baseAddress! + offset, total - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return nil
        }
        if let failed {
            // Count the lines that did not make it whole; the file may hold a partial last line.
            stats.dropped(bufferLines)
            stats.writeError()
            report("cannot write \(path): \(String(cString: strerror(failed))); log lines are being dropped")
            Glibc.close(fd)
            fd = -1
            return
        }
        size += total
        if failing {
            failing = false
            notice("abm: log file \(path) is writable again")
        }
    }

    private func rotateLocked() {
        Glibc.close(fd)
        fd = -1
        sequence += 1
        let rotating = "\(path).rotating-\(getpid())-\(sequence)"
        guard rename(path, rotating) == 0 else {
            report("cannot rotate \(path): \(String(cString: strerror(errno)))")
            return
        }
        stats.rotated()
        let path = self.path
        let policy = self.policy
        maintenance.async {
            let fm = FileManager.default
            func exists(_ p: String) -> Bool { fm.fileExists(atPath: p) }
            if policy.backups == 0 {
                try? fm.removeItem(atPath: rotating)
                return
            }
            for suffix in ["", ".gz"] { try? fm.removeItem(atPath: "\(path).\(policy.backups)\(suffix)") }
            if policy.backups > 1 {
                for i in stride(from: policy.backups - 1, through: 1, by: -1) {
                    for suffix in ["", ".gz"] where exists("\(path).\(i)\(suffix)") {
                        _ = rename("\(path).\(i)\(suffix)", "\(path).\(i + 1)\(suffix)")
                    }
                }
            }
            _ = rename(rotating, "\(path).1")
            if policy.compress {
                do { try Gzip.compressFile("\(path).1") } catch {
                    notice("abm: could not compress \(path).1: \(error)")
                }
            }
        }
    }

    /// Says a failure once, until writing works again.
    private func report(_ message: String) {
        guard !failing else { return }
        failing = true
        notice("abm: \(message)")
    }
}

/// One line on stderr, bypassing the logging system (which may be what is failing).
func notice(_ s: String) {
    let line = Array((s + "\n").utf8)
    _ = line.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
}
