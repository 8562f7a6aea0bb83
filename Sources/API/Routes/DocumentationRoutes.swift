import Hummingbird
import Simulation

/// `/openapi.json` and a self-contained HTML index of the API at `/docs` and `/redoc`.
struct DocumentationRoutes {
    let prometheusEnabled: Bool

    func register(on router: Router<ABMRequestContext>) {
        let document = JSONWriter.bytes(OpenAPIDocument.document(prometheus: prometheusEnabled))
        router.get("/openapi.json") { _, _ in Response.json(bytes: document) }
        let html = Self.html(prometheus: prometheusEnabled)
        router.get("/docs") { _, _ in Response.text(html, contentType: "text/html; charset=utf-8") }
        router.get("/redoc") { _, _ in Response.text(html, contentType: "text/html; charset=utf-8") }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    static func html(prometheus: Bool) -> String {
        let rows = OpenAPIDocument.operations(prometheus: prometheus).map { op in
            "<tr><td><code>\(op.method.uppercased())</code></td><td><code>\(escape(op.path))</code></td><td>\(escape(op.summary))</td></tr>"
        }.joined(separator: "\n")
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>abm-service API</title>
            <style>body{font-family:sans-serif;margin:2em}td{padding:.3em .8em;border-bottom:1px solid #ddd}</style></head>
            <body><h1>abm-service API</h1>
            <p>The machine-readable description is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.0).</p>
            <table><tr><th>Method</th><th>Path</th><th>What it does</th></tr>
            \(rows)
            </table></body></html>
            """
    }
}
