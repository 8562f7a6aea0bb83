import Foundation
import Logging
import Synchronization
import Testing

@testable import Telemetry

@Suite struct FormatterTests {
    @Test func writesTheDocumentedSchema() throws {
        let r = LogRecord(
            time: 1_795_000_000.123456, level: .info, message: "request completed", logger: "abm",
            metadata: [("request_id", .string("r1")), ("status", .number("200")), ("path", .string("a\"b\n"))])
        let line = String(decoding: JSONLineFormatter().format(r), as: UTF8.self)
        #expect(line == #"{"ts":"2026-11-18T11:06:40.123456Z","level":"info","msg":"request completed","logger":"abm","request_id":"r1","status":200,"path":"a\"b\n"}"# + "\n")
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        #expect(object?["status"] as? Int == 200)
    }

    @Test func flattensMetadataIntoSnakeCaseAndRedactsSecrets() {
        var out: [(key: String, value: LogValue)] = []
        MetadataFlattener.flatten(
            ["hb.request.id": "skipped", "a.b.c": "x", "jobID": "j", "nested": ["innerKey": "v"], "Authorization": "Bearer s3cret", "count": .stringConvertible(3)],
            into: &out)
        let map = Dictionary(out.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(map["a_b_c"] == .string("x"))
        #expect(map["hb_request_id"] == nil)
        #expect(map["job_id"] == .string("j"))
        #expect(map["nested_inner_key"] == .string("v"))
        #expect(map["authorization"] == .string("[redacted]"))
        #expect(map["count"] == .number("3"))
    }

    @Test func handlerCountsLevelsAndHonoursTheSharedLevel() {
        let sink = MemorySink()
        let stats = LogStatistics()
        let level = TelemetryLogHandler.LevelBox(.info)
        let logger = Logger(label: "t") { TelemetryLogHandler(label: $0, sinks: [sink], level: level, stats: stats) }
        logger.debug("hidden")
        logger.info("shown", metadata: ["k": "v"])
        logger.error("bad")
        level.level = .debug
        logger.debug("now shown")
        #expect(sink.all.map(\.message) == ["shown", "bad", "now shown"])
        #expect(stats.linesByLevel[.info] == 1 && stats.linesByLevel[.error] == 1 && stats.linesByLevel[.debug] == 1)
        #expect(sink.all[0].value("k") == .string("v"))
    }
}

@Suite struct RotationPolicyTests {
    @Test func rotatesBySizeAndByDay() {
        let p = RotationPolicy(maxBytes: 100, backups: 3, daily: true)
        let day = 86400.0 * 20000
        #expect(p.shouldRotate(size: 0, pending: 1000, openedAt: day, now: day) == nil)
        #expect(p.shouldRotate(size: 50, pending: 40, openedAt: day, now: day) == nil)
        #expect(p.shouldRotate(size: 50, pending: 51, openedAt: day, now: day) == .size)
        #expect(p.shouldRotate(size: 10, pending: 1, openedAt: day + 100, now: day + 86399) == nil)
        #expect(p.shouldRotate(size: 10, pending: 1, openedAt: day + 100, now: day + 86400) == .daily)
        #expect(RotationPolicy(maxBytes: 0).shouldRotate(size: .max / 2, pending: 1, openedAt: 0, now: 0) == nil)
    }
}

@Suite(.serialized) struct RotatingFileWriterTests {
    static func tempDir() -> String {
        let d = NSTemporaryDirectory() + "abm-log-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// Every line in the file and its rotated copies (gzipped ones read through gzip -dc).
    static func allLines(_ path: String) throws -> [String] {
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        var lines: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.hasPrefix(base) {
            let full = dir + "/" + name
            let data: Data
            if name.hasSuffix(".gz") {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/bin/gzip")
                p.arguments = ["-dc", full]
                let pipe = Pipe()
                p.standardOutput = pipe
                try p.run()
                data = pipe.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
            } else {
                data = FileManager.default.contents(atPath: full) ?? Data()
            }
            lines += String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
        return lines
    }

    @Test func concurrentWritersThroughManyRotationsLoseAndRepeatNothing() async throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stats = LogStatistics()
        let path = dir + "/abm.log"
        let writer = RotatingFileWriter(path: path, policy: RotationPolicy(maxBytes: 2 * 1024 * 1024, backups: 200), stats: stats)
        let level = TelemetryLogHandler.LevelBox(.info)
        let handler = TelemetryLogHandler(label: "stress", sinks: [FileSink(writer: writer)], level: level, stats: stats)
        let tasks = 8
        let perTask = 50_000
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    let logger = Logger(label: "stress") { _ in handler }
                    for i in 0..<perTask { logger.info("line", metadata: ["task": "\(t)", "i": "\(i)"]) }
                }
            }
        }
        writer.close()
        #expect(stats.rotations >= 10)
        #expect(stats.dropped == 0)
        let lines = try Self.allLines(path)
        #expect(lines.count == tasks * perTask)
        var seen = Set<String>()
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let key = "\(object?["task"] ?? "?")-\(object?["i"] ?? "?")"
            #expect(seen.insert(key).inserted, "duplicate \(key)")
        }
        #expect(seen.count == tasks * perTask)
    }

    @Test func keepsBackupsAndCompressesThem() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/abm.log"
        let writer = RotatingFileWriter(path: path, policy: RotationPolicy(maxBytes: 10_000, backups: 3, compress: true), flushInterval: 0)
        for i in 0..<5000 { writer.write(Array("line \(i) \(String(repeating: "x", count: 40))\n".utf8)) ; if i % 100 == 0 { writer.flush() } }
        writer.close()
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names == ["abm.log", "abm.log.1.gz", "abm.log.2.gz", "abm.log.3.gz"])
        let lines = try Self.allLines(path)
        // The newest lines survive, contiguous and whole.
        let numbers = lines.compactMap { Int($0.split(separator: " ")[1]) }.sorted()
        #expect(numbers.last == 4999)
        #expect(numbers == Array(numbers.first!...4999))
        let attrs = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attrs[.posixPermissions] as? Int) == 0o640)
    }

    @Test func reopenFollowsLogrotateCreateMode() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/abm.log"
        let writer = RotatingFileWriter(path: path, policy: RotationPolicy(maxBytes: 0), flushInterval: 0)
        writer.write(Array("before\n".utf8))
        writer.flush()
        try FileManager.default.moveItem(atPath: path, toPath: path + ".moved")
        writer.write(Array("still old fd\n".utf8))
        writer.reopen()
        writer.write(Array("after\n".utf8))
        writer.close()
        #expect(String(decoding: FileManager.default.contents(atPath: path + ".moved")!, as: UTF8.self) == "before\nstill old fd\n")
        #expect(String(decoding: FileManager.default.contents(atPath: path)!, as: UTF8.self) == "after\n")
    }

    @Test func aFailingFileDropsCountsAndRecovers() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stats = LogStatistics()
        // /dev/full accepts the open and fails every write with ENOSPC.
        let full = RotatingFileWriter(path: "/dev/full", policy: RotationPolicy(maxBytes: 0), stats: stats, flushInterval: 0)
        for _ in 0..<10 { full.write(Array("x\n".utf8)) }
        full.flush()
        #expect(stats.dropped == 10)
        #expect(stats.writeErrors == 1)
        // A path that cannot be opened (its directory is a file), then becomes writable.
        let blocker = dir + "/logs"
        FileManager.default.createFile(atPath: blocker, contents: Data())
        let stats2 = LogStatistics()
        let writer = RotatingFileWriter(path: blocker + "/abm.log", policy: RotationPolicy(maxBytes: 0), stats: stats2, flushInterval: 0)
        writer.write(Array("lost\n".utf8))
        writer.flush()
        #expect(stats2.dropped == 1)
        try FileManager.default.removeItem(atPath: blocker)
        writer.write(Array("kept\n".utf8))
        writer.close()
        #expect(String(decoding: FileManager.default.contents(atPath: blocker + "/abm.log") ?? Data(), as: UTF8.self) == "kept\n")
    }
}

@Suite struct JournaldSinkTests {
    @Test func fieldsFollowJournaldRules() {
        let sink = JournaldSink(stats: LogStatistics())
        let r = LogRecord(
            time: 0, level: .error, message: "job failed", logger: "abm.jobs",
            metadata: [("job_id", .string("abm_1")), ("event", .string("job_failed")), ("runbook", .string("https://runbooks/x")),
                       ("9lives", .string("x")), ("priority", .string("spoof"))],
            file: "Jobs/JobQueue.swift", function: "finish()", line: 42)
        let fields = sink.fields(r)
        #expect(fields.contains("MESSAGE=job failed"))
        #expect(fields.contains("PRIORITY=3"))
        #expect(fields.contains("SYSLOG_IDENTIFIER=abm"))
        #expect(fields.contains("CODE_FILE=Jobs/JobQueue.swift") && fields.contains("CODE_LINE=42") && fields.contains("CODE_FUNC=finish()"))
        #expect(fields.contains("JOB_ID=abm_1"))
        #expect(fields.contains("MESSAGE_ID=\(LogEventCatalogue.messageID(for: "job_failed")!)"))
        #expect(fields.contains("DOCUMENTATION=https://runbooks/x"))
        #expect(fields.contains("F_9LIVES=x"))
        #expect(fields.filter { $0.hasPrefix("PRIORITY=") } == ["PRIORITY=3"])
    }

    @Test func journalStreamMustNameStderr() {
        var st = stat()
        fstat(2, &st)
        #expect(JournaldSink.stderrIsJournal(environment: ["JOURNAL_STREAM": "\(st.st_dev):\(st.st_ino)"]))
        #expect(!JournaldSink.stderrIsJournal(environment: ["JOURNAL_STREAM": "\(st.st_dev):\(st.st_ino + 1)"]))
        #expect(!JournaldSink.stderrIsJournal(environment: [:]))
        #expect(!JournaldSink.stderrIsJournal(environment: ["JOURNAL_STREAM": "garbage"]))
    }

    @Test func messageIDsAreDistinct128BitIDs() {
        let ids = Array(LogEventCatalogue.messageIDs.values)
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
    }
}

@Suite struct LoggingDocumentationTests {
    /// docs/logging.md lists every catalogued event with its MESSAGE_ID.
    @Test func everyEventIsDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/logging.md"), encoding: .utf8)
        for (event, id) in LogEventCatalogue.messageIDs {
            #expect(doc.contains("| `\(event)` | `\(id)` |"), "docs/logging.md lacks \(event)")
        }
    }
}
