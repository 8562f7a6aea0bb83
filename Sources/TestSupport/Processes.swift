/// Helpers shared by the test targets that start real programs (promtool, amtool, the abm binary).
import Foundation

/// Runs blocking work (waiting for a child process, reading its pipes) on a thread of its own, so tests
/// that drive real processes hold neither the Swift concurrency pool that every other test shares nor
/// Dispatch's workers (on Linux the two are the same threads).
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { k in
        Thread {
            do { k.resume(returning: try body()) } catch { k.resume(throwing: error) }
        }.start()
    }
}


/// Runs a program to completion and returns its exit status and combined output (blocking: call it through
/// `offPool`). `directory` is its working directory (the caller's when nil).
public func runProgram(_ path: String, _ args: [String], in directory: URL? = nil) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    p.currentDirectoryURL = directory
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, text)
}
