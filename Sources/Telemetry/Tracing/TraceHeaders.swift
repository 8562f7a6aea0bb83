import W3CTraceContext

/// W3C trace context headers: the check that keeps a malformed `traceparent` away from the tracer.
public enum TraceHeaders {
    public static let traceparent = "traceparent"
    public static let tracestate = "tracestate"

    /// What to pass on of an incoming pair: both when they parse together, the `traceparent` alone when only
    /// the `tracestate` is malformed, nothing when the `traceparent` is malformed (the request then starts a
    /// new trace). Parsed by the same W3C library the tracer uses, so nothing passed on can fail there.
    public static func sanitize(traceparent: String?, tracestate: String?) -> (traceparent: String?, tracestate: String?) {
        guard let traceparent, traceparent.utf8.count <= 512 else { return (nil, nil) }
        if let tracestate, tracestate.utf8.count <= 8192,
            (try? TraceContext(traceParentHeaderValue: traceparent, traceStateHeaderValue: tracestate)) != nil
        {
            return (traceparent, tracestate)
        }
        if (try? TraceContext(traceParentHeaderValue: traceparent, traceStateHeaderValue: nil)) != nil { return (traceparent, nil) }
        return (nil, nil)
    }
}
