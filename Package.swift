// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "abm-service",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "abm", targets: ["abm"]),
        .library(name: "Simulation", targets: ["Simulation"]),
    ],
    // Exact versions: the build is the one that was tested. Tests/abmTests/DependencyGraphTests.swift checks
    // that the resolved graph holds these, and scripts/sbom lists the whole graph (transitive packages too).
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", exact: "1.35.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        // OTLP over HTTP with protobuf only: the OTLPGRPC trait (on by default) would build gRPC.
        .package(url: "https://github.com/swift-otel/swift-otel", exact: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/apple/swift-distributed-tracing", exact: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context", exact: "1.0.0"),
    ],
    targets: [
        // The model: no package dependencies, no I/O, no clocks.
        .target(name: "Simulation"),
        // libsystemd (libsystemd-dev): journald and sd_notify; imported only under Telemetry/Systemd/.
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // zlib (zlib1g-dev): gzip of rotated log files.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Logs, metrics and health; knows nothing about simulations.
        .target(
            name: "Telemetry",
            dependencies: [
                "CSystemd", "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
            ]
        ),
        // Rule files, the PromQL subset, the sample store, the rule evaluator and Alertmanager delivery.
        .target(
            name: "Alerting",
            dependencies: [
                "Telemetry",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Job admission, claiming and running over a JobStore (SQLite through GRDB, with the system's
        // libsqlite3-dev; PostgreSQL through postgres-nio; or memory), the result cache by reference,
        // progress events.
        .target(
            name: "Jobs",
            dependencies: [
                "Simulation",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // The Hummingbird application: routes, middleware, error mapping.
        .target(
            name: "API",
            dependencies: [
                "Simulation", "Jobs", "Telemetry", "Alerting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .executableTarget(
            name: "abm",
            dependencies: [
                "Simulation", "API", "Jobs", "Telemetry", "Alerting",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Measures the engine for benchmarks/engine.sh; not part of the service.
        .executableTarget(
            name: "abm-bench",
            dependencies: [
                "Simulation", "Telemetry", "Alerting", "Jobs", .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Test-only helpers (running programs off the concurrency pool); no test target repeats them.
        .target(name: "TestSupport", path: "Sources/TestSupport"),
        .testTarget(
            name: "SimulationTests",
            dependencies: ["Simulation"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "TelemetryTests",
            dependencies: [
                "Telemetry", "TestSupport", .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            exclude: ["metrics.golden"]
        ),
        .testTarget(
            name: "AlertingTests",
            dependencies: ["Alerting", "Telemetry", "TestSupport"]
        ),
        .testTarget(
            name: "JobsTests",
            dependencies: [
                "Jobs", "Simulation", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ]
        ),
        .testTarget(
            name: "APITests",
            dependencies: [
                "API", "Jobs", "Simulation", "Telemetry",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ]
        ),
        .testTarget(
            name: "abmTests",
            dependencies: ["abm", "TestSupport"]
        ),
    ]
)
