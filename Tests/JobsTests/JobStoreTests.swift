import Foundation
import Jobs
import Testing

@Suite struct JobLifecycleTests {
    @Test func allowedTransitions() {
        #expect(JobStatus.pending.canTransition(to: .running))
        #expect(JobStatus.pending.canTransition(to: .cancelled))
        #expect(JobStatus.running.canTransition(to: .completed))
        #expect(JobStatus.running.canTransition(to: .failed))
        #expect(JobStatus.running.canTransition(to: .cancelled))
        #expect(JobStatus.running.canTransition(to: .pending))
        for terminal in [JobStatus.completed, .failed, .cancelled] {
            #expect(terminal.isTerminal)
            #expect(JobStatus.allCases.allSatisfy { !terminal.canTransition(to: $0) })
        }
        #expect(!JobStatus.pending.canTransition(to: .completed))
    }

    @Test func eventIDsFollowProgress() {
        var s = JobSnapshot(jobID: "j", status: .pending, currentMonth: 0, totalMonths: 12)
        #expect(s.eventID == 0)
        s.status = .running
        s.currentMonth = 5
        #expect(s.eventID == 6)
        #expect(s.event(id: 3) == JobSnapshot(jobID: "j", status: .running, currentMonth: 2, totalMonths: 12))
        s.status = .completed
        s.currentMonth = 12
        #expect(s.eventID == 14)
        #expect(s.doneEventID == 15)
    }
}

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(Array(repeating: UInt8(ascii: "a"), count: 1000)).count == 64)
    }
}

@Suite struct ResultCacheTests {
    @Test func boundedByCountLeastRecentlyUsedFirst() {
        var c = ResultCache(maxEntries: 2, maxAge: 100)
        let t = Date(timeIntervalSince1970: 0)
        c.store("a", jobID: "1", at: t)
        c.store("b", jobID: "2", at: t)
        #expect(c.lookup("a", now: t) == "1")
        c.store("c", jobID: "3", at: t)
        #expect(c.count == 2)
        #expect(c.lookup("b", now: t) == nil)
        #expect(c.lookup("a", now: t) == "1")
    }

    @Test func boundedByAge() {
        var c = ResultCache(maxEntries: 10, maxAge: 60)
        let t = Date(timeIntervalSince1970: 0)
        c.store("a", jobID: "1", at: t)
        #expect(c.lookup("a", now: t.addingTimeInterval(59)) == "1")
        #expect(c.lookup("a", now: t.addingTimeInterval(61)) == nil)
        c.store("b", jobID: "2", at: t)
        c.evict(now: t, deletedJobs: ["2"])
        #expect(c.count == 0)
    }

    @Test func keyIgnoresSpelledOutDefaults() throws {
        let a = try request(seed: 3)
        var b = a
        b.abm.pricing.holdingTime = 6.0
        #expect(ResultCache.key(for: a) == ResultCache.key(for: b))
        #expect(ResultCache.key(for: a).count == 16)
        #expect(ResultCache.key(for: a) != ResultCache.key(for: try request(seed: 4)))
    }
}

@Suite struct SQLiteJobStoreTests {
    func job(_ id: String, status: JobStatus = .pending, completedAt: Date? = nil) -> JobRecord {
        JobRecord(
            id: id, kind: .abm, status: status, createdAt: Date(timeIntervalSince1970: 1000), completedAt: completedAt,
            totalMonths: 12, request: Array(#"{"x":1}"#.utf8), seed: 7, cacheKey: "k")
    }

    @Test(arguments: ["sqlite", "memory"])
    func storesUpdatesAndDeletes(kind: String) async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store: any JobStore = kind == "sqlite" ? SQLiteJobStore(directory: dir) : InMemoryJobStore()
        try await store.migrate()
        try await store.insert(job("a"))
        try await store.insert(job("b"))
        var a = try #require(try await store.job("a"))
        #expect(a == job("a"))
        a.status = .running
        a.startedAt = Date(timeIntervalSince1970: 2000)
        a.currentMonth = 3
        try await store.update(a)
        #expect(try await store.job("a")?.currentMonth == 3)
        a.status = .completed
        a.completedAt = Date(timeIntervalSince1970: 3000)
        try await store.complete(a, result: Array("result".utf8))
        #expect(try await store.result("a") == Array("result".utf8))
        #expect(try await store.allJobs().map(\.id) == ["a", "b"])
        #expect(try await store.deleteTerminal(completedBefore: Date(timeIntervalSince1970: 2999)) == [])
        #expect(try await store.deleteTerminal(completedBefore: Date(timeIntervalSince1970: 3001)) == ["a"])
        #expect(try await store.job("a") == nil)
        #expect(try await store.result("a") == nil)
        await #expect(throws: JobStoreError.self) { try await store.update(self.job("zzz")) }
    }

    @Test func persistsAcrossConnectionsInWALMode() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let store = SQLiteJobStore(directory: dir)
            try await store.insert(job("persisted"))
        }
        let again = SQLiteJobStore(directory: dir)
        try await again.migrate()
        #expect(try await again.job("persisted")?.seed == 7)
        #expect(FileManager.default.fileExists(atPath: dir + "/jobs.sqlite3-wal"))
    }

    @Test func unwritableDirectoryIsReportedAndRecovers() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let blocked = dir + "/blocked"
        // A regular file where the data directory should be: nothing can be created inside it.
        FileManager.default.createFile(atPath: blocked, contents: Data())
        let store = SQLiteJobStore(directory: blocked)
        await #expect(throws: JobStoreError.self) { try await store.migrate() }
        try FileManager.default.removeItem(atPath: blocked)
        try await store.migrate()
        try await store.checkWritable()
    }
}
