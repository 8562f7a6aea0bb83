import Foundation
import Testing

@testable import Alerting

@Suite struct RuleFileTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theShippedRulesLoad() throws {
        let f = try RuleFile.load(path: Self.root.appendingPathComponent("alerts/abm.rules.yml").path)
        #expect(f.groups.map(\.name) == ["abm-recording", "abm-alerts"])
        #expect(f.groups[1].rules.allSatisfy { $0.kind == .alerting && $0.severity != nil && $0.runbook == "runbooks/\($0.name).md" })
    }

    /// The binary's built-in rules are the shipped file, byte for byte (`make embed-rules` regenerates them).
    @Test func embeddedRulesMatchTheFile() throws {
        let file = try String(contentsOf: Self.root.appendingPathComponent("alerts/abm.rules.yml"), encoding: .utf8)
        #expect(EmbeddedRules.abm + "\n" == file)
    }

    @Test func errorsNameFileLineGroupRuleAndPosition() {
        let text = """
            groups:
              - name: g
                rules:
                  - alert: Fine
                    expr: up == 0
                  - alert: Bad
                    expr: topk(3, up)
                  - record: bad name
                    expr: up
                    for: 5m
                  - alert: BadTemplate
                    expr: up
                    annotations:
                      summary: "{{ if true }}x{{ end }}"
              - name: g
                rules: []
            """
        do {
            _ = try RuleFile.parse(text, path: "rules.yml")
            Issue.record("parsed")
        } catch {
            let all = error.messages.joined(separator: "\n")
            #expect(all.contains(#"rules.yml:6: group "g", rule 2 (alert "Bad"): could not parse expression: parse error at char 1: aggregation "topk" is outside the supported subset"#), "\(all)")
            #expect(all.contains(#"rule 3 (record "bad name"): invalid recording rule name"#))
            #expect(all.contains(#"invalid field "for" in recording rule"#))
            #expect(all.contains(#"rule 4 (alert "BadTemplate"): annotations summary: unsupported template function "if""#))
            #expect(all.contains(#"group "g": repeated in the same file"#))
        }
        #expect(throws: RuleFile.Failure.self) { _ = try RuleFile.parse("groups: [", path: "x.yml") }
        #expect(throws: RuleFile.Failure.self) { _ = try RuleFile.parse("groups:\n  - name: a\n    rules:\n      - expr: up\n", path: "x.yml") }
        #expect(throws: RuleFile.Failure.self) { _ = try RuleFile.parse("groups:\n  - name: a\n    interval: soon\n    rules: []\n", path: "x.yml") }
    }
}
