import Synchronization
import Tracing

/// A job's place in a trace: the submission's trace context is stored with the job, and each run links to it.
/// Also the text form the HTTP layer uses for a response's `traceparent`.
///
/// What is stored is what the tracer propagates: for the OpenTelemetry tracer, the W3C `traceparent` value
/// itself; for any other tracer (an in-memory one in tests), its fields as `key=value&key=value`.
public enum JobTrace {
    /// The W3C `traceparent` the tracer writes for a context (nil when the context has no span, as with tracing
    /// off, or when the tracer does not speak W3C).
    public static func traceparent(of context: InstrumentationContext, tracer: any Tracer) -> String? {
        carrier(context, tracer)["traceparent"]
    }

    /// The stored form of a context's trace (see above); nil when there is none.
    public static func stored(_ context: InstrumentationContext, tracer: any Tracer) -> String? {
        let carrier = carrier(context, tracer)
        if let traceparent = carrier["traceparent"] { return traceparent }
        guard !carrier.isEmpty, carrier.allSatisfy({ !$0.key.contains("&") && !$0.key.contains("=") && !$0.value.contains("&") })
        else { return nil }
        return carrier.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
    }

    /// A context holding the span a stored trace (or an incoming `traceparent` and `tracestate`) names, for a
    /// parent or a link; nil when the tracer finds no span in it.
    public static func context(traceparent: String, tracestate: String? = nil, tracer: any Tracer) -> InstrumentationContext? {
        var carrier: [String: String] = [:]
        if traceparent.contains("=") {
            for pair in traceparent.split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { carrier[String(kv[0])] = String(kv[1]) }
            }
        } else {
            carrier["traceparent"] = traceparent
            carrier["tracestate"] = tracestate
        }
        var context = InstrumentationContext.topLevel
        tracer.extract(carrier, into: &context, using: DictionaryCarrier())
        return stored(context, tracer: tracer) == nil ? nil : context
    }

    /// The trace id of a W3C `traceparent` (its second field: 32 lowercase hex digits); nil for another form.
    public static func traceID(ofTraceparent value: String) -> String? {
        let parts = value.split(separator: "-")
        guard parts.count >= 4, parts[1].utf8.count == 32, !value.contains("=") else { return nil }
        return String(parts[1])
    }

    /// What the tracer propagates for a context.
    static func carrier(_ context: InstrumentationContext, _ tracer: any Tracer) -> [String: String] {
        var carrier: [String: String] = [:]
        tracer.inject(context, into: &carrier, using: DictionaryCarrier())
        return carrier
    }

    struct DictionaryCarrier: Injector, Extractor {
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    }
}

/// Ends a span once, from whichever thread gets there first (a phase that ends on a worker thread, a response
/// body written or dropped unwritten).
public final class SpanEnd: Sendable {
    private let span: Mutex<(any Span)?>
    public init(_ span: any Span) { self.span = Mutex(span) }
    public func end() { span.withLock { $0.take() }?.end() }
    deinit { end() }
}
