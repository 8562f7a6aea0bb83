/// A callback that can be set once and read from any thread, kept in a `Mutex`.
///
/// The function is boxed in a struct on purpose: a bare function value in a `Mutex` is passed `inout` to
/// `withLock`, and each access re-abstracts it on the way in and again on the way out, wrapping it in two
/// more thunks every time, so every call grew the chain and got slower (found by profiling the job
/// throughput benchmark: half the CPU went to nested thunks).
struct Callback<Argument>: Sendable {
    let call: @Sendable (Argument) -> Void

    init(_ call: @escaping @Sendable (Argument) -> Void) { self.call = call }
}
