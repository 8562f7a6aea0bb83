import PostgresNIO

/// The text of a statement the store runs on every job (claim, renewal, completion): a fixed SQL string
/// with `$n` parameters, so it can be prepared.
protocol PostgresStatementText {
    static var name: String { get }
    static var sql: String { get }
}

/// A hot statement, prepared once per connection (postgres-nio prepares it on first use on each connection
/// and reuses it after). An unnamed statement is parsed and planned on every call: in the cluster benchmark
/// planning cost the server as much as executing the claim and completion did.
struct PostgresStatement<Text: PostgresStatementText>: PostgresPreparedStatement {
    static var name: String { Text.name }
    static var sql: String { Text.sql }
    typealias Row = PostgresRow

    let bindings: PostgresBindings

    init(_ bindings: PostgresBindings) { self.bindings = bindings }

    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
