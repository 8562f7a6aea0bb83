import Foundation
import Logging
import PostgresNIO
@testable import Jobs
import TestSupport

/// A private PostgreSQL cluster for the tests: `initdb` in a temporary folder, run as the `postgres` user
/// on a loopback port, started once per test process and stopped by its PID when the process exits. Each
/// test gets a database of its own. Unavailable (tests that need it are skipped) when PostgreSQL is not
/// installed.
enum PostgresTestServer {
    static let binaries = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"]
        .first { FileManager.default.isExecutableFile(atPath: $0 + "/postgres") }

    static var available: Bool { binaries != nil && (try? runProgram("/usr/bin/id", ["postgres"]).status) == 0 }

    struct Cluster: Sendable {
        let port: Int
    }

    /// Started on first use.
    static let cluster: Result<Cluster, any Error> = Result { try start() }

    private static func start() throws -> Cluster {
        guard let bin = binaries else { throw TestServerError("PostgreSQL is not installed") }
        let dir = NSTemporaryDirectory() + "abm-pg-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try runProgram("/bin/chown", ["postgres:postgres", dir])
        let data = dir + "/data"
        let (initStatus, initOut) = try runProgram(
            "/usr/sbin/runuser", ["-u", "postgres", "--", bin + "/initdb", "-D", data, "-U", "abm", "--auth=trust", "-E", "UTF8"],
            in: URL(fileURLWithPath: dir))
        guard initStatus == 0 else { throw TestServerError("initdb failed: \(initOut)") }
        let port = 20000 + Int(getpid() % 10000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
        // The postgres user may not be able to enter this process's working directory.
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        process.arguments = [
            "-u", "postgres", "--", bin + "/postgres", "-D", data, "-p", "\(port)", "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=\(dir)", "-c", "fsync=off", "-c", "max_connections=200",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        stopAtExit(folder: dir)
        // Ready when a connection succeeds.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let (status, _) = try runProgram(bin + "/pg_isready", ["-h", "127.0.0.1", "-p", "\(port)"])
            if status == 0 { return Cluster(port: port) }
            usleep(100_000)
        }
        throw TestServerError("PostgreSQL did not start on port \(port)")
    }

    /// A fresh database on the cluster, and a running client for it.
    static func database() async throws -> (PostgresClient, Task<Void, Never>) {
        // The first use starts the server (initdb, then waiting for it): blocking work, kept off the
        // concurrency pool that every other test shares.
        let cluster = try await offPool { try Self.cluster.get() }
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = client(port: cluster.port, database: "postgres")
        let running = Task { await admin.run() }
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        running.cancel()
        let c = client(port: cluster.port, database: name)
        return (c, Task { await c.run() })
    }

    /// A migrated store on a fresh database for the duration of `body`; its client stops afterwards.
    static func withStore<T>(_ body: (PostgresJobStore) async throws -> T) async throws -> T {
        let (client, running) = try await database()
        defer { running.cancel() }
        let store = PostgresJobStore(client: client, logger: Logger(label: "test.store"))
        try await store.migrate()
        return try await body(store)
    }

    static func client(port: Int, database: String) -> PostgresClient {
        var configuration = PostgresClient.Configuration(
            host: "127.0.0.1", port: port, username: "abm", password: nil, database: database, tls: .disable)
        configuration.options.maximumConnections = 10
        return PostgresClient(configuration: configuration, backgroundLogger: Logger(label: "test.postgres"))
    }
}

struct TestServerError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// The cluster's folder, for the exit handler (a C function pointer captures nothing).
nonisolated(unsafe) private var clusterFolder = ""

/// At exit: the server's own PID from `postmaster.pid` gets SIGINT (PostgreSQL's fast shutdown), then the
/// folder goes.
private func stopAtExit(folder: String) {
    clusterFolder = folder
    atexit {
        let pidFile = clusterFolder + "/data/postmaster.pid"
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = text.split(separator: "\n").first.flatMap({ Int32($0) })
        {
            kill(pid, SIGINT)
            for _ in 0..<100 where FileManager.default.fileExists(atPath: pidFile) { usleep(50_000) }
        }
        try? FileManager.default.removeItem(atPath: clusterFolder)
    }
}
