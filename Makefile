# Shortcuts for the scripts in scripts/; the scripts are the source of truth.
.PHONY: run test bench build format
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
