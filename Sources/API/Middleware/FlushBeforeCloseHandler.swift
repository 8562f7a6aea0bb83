import NIOCore

/// Holds back a full close of an HTTP/1 connection until the response written before it has left.
///
/// During graceful shutdown Hummingbird (2.28) closes a connection as soon as the last part of the
/// in-flight response is handed to the channel, without waiting for it to be flushed; a response larger
/// than the socket buffer (a million-agent simulation is about 8 MB) was then cut off after a 200 status,
/// which a client cannot tell from a complete answer. This handler sits between the HTTP codec and
/// Hummingbird's connection-state handler: it remembers the last write, and a close that arrives while
/// that write is pending waits for it, or for `limit` if the peer stops reading.
final class FlushBeforeCloseHandler: ChannelOutboundHandler, RemovableChannelHandler {
    // Response parts pass through untouched (never unwrapped), so their type does not matter here.
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var pending: EventLoopFuture<Void>?
    private let limit: TimeAmount

    init(limit: TimeAmount = .seconds(20)) { self.limit = limit }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let p = promise ?? context.eventLoop.makePromise()
        context.write(data, promise: p)
        let future = p.futureResult
        pending = future
        future.whenComplete { [weak self] _ in
            if self?.pending === future { self?.pending = nil }
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all, let pending else {
            context.close(mode: mode, promise: promise)
            return
        }
        context.flush()
        let done = context.eventLoop.makePromise(of: Void.self)
        pending.whenComplete { _ in done.succeed() }
        let timeout = context.eventLoop.scheduleTask(in: limit) { done.succeed() }
        done.futureResult.whenComplete { _ in
            timeout.cancel()
            context.close(mode: mode, promise: promise)
        }
    }
}
