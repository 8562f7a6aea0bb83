# Shortcuts for the scripts in scripts/; the scripts are the source of truth.
.PHONY: run test bench bench-all fuzz soak build format embed-rules
run:
	scripts/run
test:
	scripts/test
build:
	swift build
bench:
	benchmarks/engine.sh
# Every benchmark (about 20 minutes), the long fuzzing run, and the 10-minute load and soak run.
bench-all:
	benchmarks/run-all
fuzz:
	FUZZ_EXAMPLES=300 scripts/fuzz-api.sh
soak:
	benchmarks/load.sh
format:
	swift format --in-place --recursive Sources Tests

# Copies alerts/abm.rules.yml into the binary (Sources/Alerting/EmbeddedRules.swift).
embed-rules:
	scripts/embed-rules
