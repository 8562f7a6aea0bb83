# Shortcuts for the scripts in scripts/; the scripts are the source of truth.
.PHONY: run test bench build format embed-rules
run:
	scripts/run
test:
	scripts/test
build:
	swift build
bench:
	benchmarks/engine.sh
format:
	swift format --in-place --recursive Sources Tests

# Copies alerts/abm.rules.yml into the binary (Sources/Alerting/EmbeddedRules.swift).
embed-rules:
	scripts/embed-rules
