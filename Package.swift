// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "abm-service",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "abm", targets: ["abm"]),
        .library(name: "Simulation", targets: ["Simulation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The model: no package dependencies, no I/O, no clocks.
        .target(name: "Simulation"),
        .executableTarget(
            name: "abm",
            dependencies: [
                "Simulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Measures the engine for benchmarks/engine.sh; not part of the service.
        .executableTarget(
            name: "abm-bench",
            dependencies: ["Simulation"]
        ),
        .testTarget(
            name: "SimulationTests",
            dependencies: ["Simulation"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "abmTests",
            dependencies: ["abm"]
        ),
    ]
)
