import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// Where the shared job store is: `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` (`ABM_DATABASE_URL`; the
/// password may come from a file instead, `ABM_DATABASE_PASSWORD_FILE`). `?sslmode=disable|prefer|require`
/// chooses TLS (default: prefer). Every connection gets server-side timeouts, so no statement, lock wait or
/// forgotten transaction can hold a connection for long, and names this instance in `pg_stat_activity`.
public struct PostgresSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: String

    /// Nil when `url` is not a PostgreSQL URL with a user, a host and a database.
    public init?(url: String, password passwordOverride: String? = nil) {
        guard let c = URLComponents(string: url), c.scheme == "postgres" || c.scheme == "postgresql",
            let host = c.host, !host.isEmpty, let user = c.user, !user.isEmpty
        else { return nil }
        let db = String(c.path.drop { $0 == "/" })
        guard !db.isEmpty, !db.contains("/") else { return nil }
        let mode = c.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard ["disable", "prefer", "require"].contains(mode) else { return nil }
        guard c.port.map({ (1...65535).contains($0) }) ?? true else { return nil }
        self.host = host
        self.port = c.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = passwordOverride ?? c.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = db.removingPercentEncoding ?? db
        self.sslMode = mode
    }

    /// The URL without its password, for logs and `/health`.
    public var redacted: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    func tls() -> PostgresClient.Configuration.TLS {
        switch sslMode {
        case "disable": return .disable
        case "require": return .require(.makeClientConfiguration())
        default: return .prefer(.makeClientConfiguration())
        }
    }

    /// Server-side bounds for every session (startup parameters).
    func startupParameters(instance: String) -> [(String, String)] {
        [
            ("application_name", String("abm \(instance)".prefix(63))), ("statement_timeout", "15000"), ("lock_timeout", "5000"),
            ("idle_in_transaction_session_timeout", "30000"),
        ]
    }

    /// The pool the store uses: at most `maximumConnections` sessions.
    public func clientConfiguration(instance: String, maximumConnections: Int) -> PostgresClient.Configuration {
        var c = PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls())
        c.options.maximumConnections = maximumConnections
        c.options.connectTimeout = .seconds(5)
        c.options.additionalStartupParameters = startupParameters(instance: instance)
        c.options.keepAliveBehavior = .init(frequency: .seconds(15))
        return c
    }

    /// The one session that listens for notifications.
    func connectionConfiguration(instance: String) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch sslMode {
        case "disable": tls = .disable
        case "require": tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        default: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var c = PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
        c.options.connectTimeout = .seconds(5)
        c.options.additionalStartupParameters = startupParameters(instance: instance).filter { $0.0 != "statement_timeout" }
        return c
    }
}
