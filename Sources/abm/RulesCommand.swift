import Alerting
import ArgumentParser
import Foundation

/// `abm rules check FILE...` and `abm rules test FILE...`: the service's own rule loader and evaluator,
/// with promtool's verdicts (exit 0 when everything passes, 1 otherwise).
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check rule files and run rule unit tests with the service's own evaluator.",
        subcommands: [Check.self, Test.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse rule files as the service loads them: YAML, the PromQL subset, templates, names.")
        @Argument(help: "Rule files in Prometheus's rule-group format.") var files: [String]

        func run() throws {
            var failed = false
            for file in files {
                print("Checking \(file)")
                do {
                    let f = try RuleFile.load(path: file)
                    print("  SUCCESS: \(f.groups.reduce(0) { $0 + $1.rules.count }) rules found")
                } catch {
                    failed = true
                    print("  FAILED:")
                    for m in error.messages { print("\(m)") }
                }
                print("")
            }
            if failed { throw ExitCode(1) }
        }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run rule unit-test files in promtool's format (input_series, alert_rule_tests, promql_expr_tests).")
        @Argument(help: "Unit-test files.") var files: [String]

        func run() throws {
            var failed = false
            for file in files {
                let outcome = RuleTestRunner.run(file: file)
                print(outcome.report)
                if !outcome.passed { failed = true }
            }
            if failed { throw ExitCode(1) }
        }
    }
}
