import ArgumentParser
import Foundation
import Simulation

/// `abm simulate FILE|-`: one simulation from a request body, JSON (or a summary) out.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a simulation from a request body and print the response JSON.",
        discussion: """
            The input is a v2 ABM request (the body of POST /api/v2/abm/simulate-sync) or a v1 request
            ({"config": ...}, the body of POST /api/v1/simulate); the kind is detected from the body unless
            --v1 or --v2 is given. With --monte-carlo, a v2 request runs its monte_carlo settings.
            Exit status: 0 on success, 2 when the request is invalid (every problem is printed), 1 when the
            input cannot be read.
            """
    )

    enum Kind: String, ExpressibleByArgument, CaseIterable { case auto, v1, v2 }

    @Argument(help: "Request file, or - for standard input.")
    var file: String

    @Option(help: "Request kind: auto, v1 or v2.")
    var kind: Kind = .auto

    @Flag(help: "Treat the input as a v1 request (same as --kind v1).")
    var v1 = false

    @Flag(help: "Treat the input as a v2 ABM request (same as --kind v2).")
    var v2 = false

    @Flag(name: .customLong("monte-carlo"), help: "Run the request's Monte Carlo settings (v2).")
    var monteCarlo = false

    @Option(help: "Override the request's seed (v2 abm.seed, or monte_carlo.seed with --monte-carlo).")
    var seed: UInt32?

    @Option(help: "Worker threads for Monte Carlo trials (0 = all cores).")
    var threads: Int = 0

    @Flag(help: "Show a progress bar on standard error.")
    var progress = false

    @Flag(help: "Print a short human-readable summary instead of JSON.")
    var summary = false

    @Flag(help: "Indent the JSON output.")
    var pretty = false

    func run() throws {
        let bytes: [UInt8]
        do {
            bytes = try readInput()
        } catch {
            printErr("abm: cannot read \(file): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        let chosen: Kind = v1 ? .v1 : (v2 ? .v2 : kind)
        let isV1: Bool
        switch chosen {
        case .v1: isV1 = true
        case .v2: isV1 = false
        case .auto:
            if case .success(let v) = ABMRequestDecoder.parseBody(bytes), v["config"] != nil, v["token"] == nil {
                isV1 = true
            } else {
                isV1 = false
            }
        }
        let bar = progress ? ProgressBar() : nil
        do {
            if isV1 {
                try runV1(bytes)
            } else if monteCarlo {
                try runMonteCarlo(bytes, bar: bar)
            } else {
                try runV2(bytes, bar: bar)
            }
        } catch let failure as ValidationFailure {
            bar?.finish()
            printErr("abm: the request is invalid (\(failure.issues.count) problem\(failure.issues.count == 1 ? "" : "s")):")
            for issue in failure.issues { printErr("  \(issue.fieldPath): \(issue.msg)") }
            throw ExitCode(2)
        }
        bar?.finish()
    }

    private func readInput() throws -> [UInt8] {
        if file == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
        return Array(try Data(contentsOf: URL(fileURLWithPath: file)))
    }

    private func runV2(_ bytes: [UInt8], bar: ProgressBar?) throws {
        var request = try ABMRequestDecoder.decode(bytes: bytes).get()
        if let seed { request.abm.seed = seed }
        let clock = ContinuousClock()
        let start = clock.now
        var result = try ABMSimulation.run(request, progress: bar?.handler(unit: "month"))
        result.executionTimeSeconds = (clock.now - start).seconds
        bar?.finish()
        if summary {
            print(SummaryText.abm(result))
        } else {
            try emit(result.json())
        }
    }

    private func runMonteCarlo(_ bytes: [UInt8], bar: ProgressBar?) throws {
        let request = try ABMRequestDecoder.decode(bytes: bytes).get()
        guard let settings = request.monteCarlo else {
            throw ValidationFailure([
                ValidationIssue(
                    type: "missing", loc: [.key("monte_carlo")],
                    msg: "Monte Carlo configuration is required. Please provide monte_carlo settings.")
            ])
        }
        let base = seed ?? settings.seed ?? SplitMix64.freshSeed()
        let clock = ContinuousClock()
        let start = clock.now
        var result = try MonteCarloEngine.run(
            request, settings: settings, seed: base, maxConcurrency: threads, progress: bar?.handler(unit: "trial"))
        result.executionTimeSeconds = (clock.now - start).seconds
        bar?.finish()
        if summary {
            print(SummaryText.monteCarlo(result))
        } else {
            try emit(result.json())
        }
    }

    private func runV1(_ bytes: [UInt8]) throws {
        let config = try V1ConfigDecoder.decode(bytes: bytes).get()
        let clock = ContinuousClock()
        let start = clock.now
        let result = try V1Engine.run(config, maxConcurrency: threads)
        let ms = (clock.now - start).seconds * 1000
        if summary {
            print(SummaryText.v1(result))
        } else {
            try emit(result.responseJSON(executionTimeMs: ms))
        }
    }

    /// The throwing write: a full disk or a closed pipe is an exit status of 74 (EX_IOERR) with a message,
    /// not a trap (FileHandle's older `write(_:)` traps on I/O errors on Linux).
    private func emit(_ value: JSONValue) throws {
        var out = JSONWriter.bytes(value, pretty: pretty)
        out.append(UInt8(ascii: "\n"))
        do {
            try FileHandle.standardOutput.write(contentsOf: Data(out))
        } catch {
            printErr("abm: cannot write the result: \(error.localizedDescription)")
            throw ExitCode(74)
        }
    }
}

func printErr(_ s: String) {
    try? FileHandle.standardError.write(contentsOf: Data((s + "\n").utf8))
}

extension Duration {
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
