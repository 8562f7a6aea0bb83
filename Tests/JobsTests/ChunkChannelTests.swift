import Foundation
import Jobs
import Simulation
import Testing

/// The bounded hand-off between an encoding thread and a response writer, under real threads.
@Suite struct ChunkChannelTests {
    /// The producer is never more than `capacity` chunks ahead of a slow reader, and every byte arrives in order.
    @Test func aSlowReaderHoldsTheProducerBack() async throws {
        // The stall timeout is far above the reader's pace: a loaded machine may delay the reader's
        // 5 ms sleeps by seconds, and a stalled send here would end the stream early (and fail the test).
        let channel = ChunkChannel(capacity: 2, stallTimeout: .seconds(120))
        let sent = Sent()
        let producer = Thread {
            do {
                for i in 0..<20 {
                    try channel.send([UInt8(i)])
                    sent.add()
                }
                channel.finish()
            } catch {
                channel.fail(error)
            }
        }
        producer.start()
        var got: [UInt8] = []
        while let chunk = try await channel.next() {
            // The producer is at most capacity + 1 (the chunk being sent) ahead of what was read.
            #expect(sent.count <= got.count + 1 + 2 + 1)
            got += chunk
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(got == (0..<20).map(UInt8.init))
    }

    /// A reader that takes nothing for the stall timeout ends the producer's wait with `.stalled`.
    @Test func aStalledReaderStopsTheProducer() async throws {
        let channel = ChunkChannel(capacity: 1, stallTimeout: .milliseconds(200))
        let outcome = Outcome()
        let start = ContinuousClock.now
        let producer = Thread {
            do {
                try channel.send([1])
                try channel.send([2])
                outcome.set("sent")
            } catch {
                outcome.set("\(error)")
            }
        }
        producer.start()
        // The producer ends on its own, long before the test gives up (10 s, for a loaded machine).
        while outcome.value == nil, ContinuousClock.now - start < .seconds(10) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(outcome.value == "stalled")
    }

    /// A reader that leaves (its client disconnected) releases a blocked producer at once.
    @Test func aReaderThatLeavesReleasesTheProducer() async throws {
        let channel = ChunkChannel(capacity: 1, stallTimeout: .seconds(30))
        let outcome = Outcome()
        let producer = Thread {
            do {
                for _ in 0..<10 { try channel.send([1]) }
                outcome.set("sent")
            } catch {
                outcome.set("\(error)")
            }
        }
        producer.start()
        _ = try await channel.next()
        channel.cancel()
        let deadline = ContinuousClock.now + .seconds(5)
        while outcome.value == nil && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(outcome.value == "readerGone")
        await #expect(throws: ChunkChannel.Failure.readerGone) { try await channel.next() }
    }

    /// A producer failure reaches the reader after the chunks sent before it.
    @Test func aFailureFollowsTheChunksBeforeIt() async throws {
        struct Broken: Error {}
        let channel = ChunkChannel(capacity: 4, stallTimeout: .seconds(5))
        try channel.send([7])
        channel.fail(Broken())
        #expect(try await channel.next() == [7])
        await #expect(throws: Broken.self) { try await channel.next() }
    }

    /// The worker pool encodes on the thread that computed, holding its slot until the last chunk is taken.
    @Test func streamingHoldsTheSlotUntilTheBodyIsRead() async throws {
        let pool = WorkerPool(width: 1)
        let channel = ChunkChannel(capacity: 1, stallTimeout: .seconds(10))
        let document = JSONStream.elements(Array(0..<100_000)) { .integer($0) }
        try await pool.stream(into: channel, chunkSize: 1000) { document }
        #expect(pool.busy == 1)
        var bytes: [UInt8] = []
        while let chunk = try await channel.next() { bytes += chunk }
        #expect(bytes == document.bytes)
        let deadline = ContinuousClock.now + .seconds(5)
        while pool.busy != 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(pool.busy == 0)
    }

    final class Sent: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add() { lock.withLock { n += 1 } }
        var count: Int { lock.withLock { n } }
    }

    final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var v: String?
        func set(_ s: String) { lock.withLock { v = s } }
        var value: String? { lock.withLock { v } }
    }
}
