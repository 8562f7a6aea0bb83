import Testing

@testable import Alerting

@Suite struct TemplateTests {
    func render(_ t: String, value: Double = 0, labels: [String: String] = [:]) throws -> String {
        try Template(t).render(.init(labels: labels, externalLabels: ["site": "eu"], value: value))
    }

    @Test func variablesAndPipelines() throws {
        #expect(try render("{{ $labels.instance }} at {{ $value }}", value: 0.5, labels: ["instance": "a:1"]) == "a:1 at 0.5")
        #expect(try render("{{.Labels.job}}/{{ .Value }}", value: 3, labels: ["job": "abm"]) == "abm/3")
        #expect(try render("{{ $externalLabels.site }}") == "eu")
        #expect(try render("{{ $value | humanizePercentage }}", value: 0.0123) == "1.23%")
        #expect(try render("{{ humanize $value }}", value: 1_234_567) == "1.235M")
        #expect(try render("{{ $value | humanize }}", value: 0.00123) == "1.23m")
        #expect(try render("{{ $value | humanize1024 }}", value: 1_073_741_824) == "1Gi")
        #expect(try render("{{ $value | humanizeDuration }}", value: 90061) == "1d 1h 1m 1s")
        #expect(try render("{{ $value | humanizeDuration }}", value: 0.25) == "250ms")
        #expect(try render("{{ $value | humanizeDuration }}", value: 42.5) == "42.5s")
        #expect(try render(#"{{ printf "%.2f" $value }}"#, value: 1.005) == String(format: "%.2f", 1.005))
        #expect(try render("{{ $labels.x | toUpper }}", labels: ["x": "ab"]) == "AB")
        #expect(try render("a {{- $value -}} b", value: 1) == "a1b")
        #expect(try render("{{$labels := .Labels}}{{ $labels.a }}", labels: ["a": "z"]) == "z")
    }

    /// `{{ $value }}` prints a float the way Go's %v does.
    @Test func goValueFormatting() {
        #expect(GoFormat.value(1) == "1")
        #expect(GoFormat.value(0.1) == "0.1")
        #expect(GoFormat.value(123456) == "123456")
        #expect(GoFormat.value(1e6) == "1e+06")
        #expect(GoFormat.value(1234567) == "1.234567e+06")
        #expect(GoFormat.value(0.0001) == "0.0001")
        #expect(GoFormat.value(0.00001) == "1e-05")
        #expect(GoFormat.value(-2.5) == "-2.5")
        #expect(GoFormat.value(.nan) == "NaN")
        #expect(GoFormat.value(.infinity) == "+Inf")
        #expect(GoFormat.exponential(1) == "1e+00")
        #expect(GoFormat.exponential(0.25) == "2.5e-01")
        #expect(GoFormat.exponential(123.456) == "1.23456e+02")
    }

    @Test func unsupportedConstructsAreRejectedAtLoad() {
        for t in ["{{ if $value }}x{{ end }}", "{{ range $labels }}{{ end }}", "{{ $value", "{{ query \"up\" }}", "{{ $foo }}", "{{ }}"] {
            #expect(throws: Template.Failure.self, "\(t)") { _ = try Template(t) }
        }
    }
}
