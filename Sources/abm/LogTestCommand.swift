import API
import ArgumentParser
import Foundation
import Logging
import Telemetry

/// `abm log-test`: writes one entry through the configured log destination (ABM_LOG_TARGET and friends), so
/// an operator can check that entries reach journald or the file with their fields.
struct LogTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-test",
        abstract: "Write one log entry through the configured destination (ABM_LOG_TARGET, ABM_LOG_FILE).",
        discussion: "Example: ABM_LOG_TARGET=journald abm log-test --field request_id=check-1, then journalctl REQUEST_ID=check-1 -o json."
    )

    @Option(help: "The message.") var message = "log test"
    @Option(help: "A metadata field, key=value (repeatable).") var field: [String] = []
    @Option(help: "A catalogued event name (sets MESSAGE_ID under journald), e.g. ready.") var event: String?
    @Option(help: "Level: debug, info, warning, error or critical.") var level = "info"

    func run() throws {
        let configuration: ServiceConfiguration
        switch ServiceConfiguration.load(environment: ProcessInfo.processInfo.environment) {
        case .success(let c): configuration = c
        case .failure(let e):
            printErr("abm: \(e)")
            throw ExitCode(78)
        }
        var logging = configuration.loggingConfiguration
        logging.level = .trace
        let runtime = LoggingRuntime(logging)
        var logger = Logger(label: "abm.log-test") { runtime.handler(label: $0) }
        logger.logLevel = .trace
        var metadata: Logger.Metadata = [:]
        for f in field {
            let parts = f.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--field wants key=value, got \(f)") }
            metadata[parts[0]] = .string(parts[1])
        }
        if let event { metadata["event"] = .string(event) }
        guard let lvl = Logger.Level(rawValue: level) else { throw ValidationError("unknown level \(level)") }
        logger.log(level: lvl, "\(message)", metadata: metadata)
        runtime.shutdown()
        print("written to: \(runtime.destinations.joined(separator: ", "))")
    }
}
