import HTTPTypes
import Metrics
import NIOCore
import NIOHTTPTypes

/// Enforces `ConnectionTimeouts` on one connection: it sits after the HTTP codec (it sees request and
/// response parts) and puts a byte observer at the front of the pipeline (it sees a head's first bytes,
/// which the codec keeps until the head is whole). One timer per connection, moved only when a deadline
/// comes earlier; when it fires late deadlines just re-arm it.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: ConnectionTimeouts.Limits
    private let metrics: ConnectionMetrics
    private var state: ConnectionTimeouts?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    init(limits: ConnectionTimeouts.Limits, metrics: ConnectionMetrics) {
        self.limits = limits
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        state = ConnectionTimeouts(limits: limits, now: .now())
        try? context.pipeline.syncOperations.addHandler(ByteObserver(owner: self, context: context), position: .first)
        rearm(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: state?.requestHead(now: .now())
        case .body: state?.bytesRead(now: .now())
        case .end: state?.requestEnd()
        }
        rearm(context)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            state?.responseEnd(now: .now())
            rearm(context)
        }
        context.write(data, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        state?.writability(context.channel.isWritable, now: .now())
        rearm(context)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        state = nil
        context.fireChannelInactive()
    }

    /// The client closed its side (EOF). As nginx does, that is a client that left: the connection is
    /// closed, so work for it stops (`SyncRunner` watches `isActive`) and nothing waits for a reader that
    /// will not come back. A client cannot half-close and still expect its answer here.
    fileprivate func inputClosed(_ context: ChannelHandlerContext) {
        state = nil
        timer?.cancel()
        timer = nil
        context.close(promise: nil)
    }

    fileprivate func rawBytes(_ context: ChannelHandlerContext) {
        state?.bytesRead(now: .now())
        rearm(context)
    }

    /// Keeps one timer at or before the earliest deadline.
    private func rearm(_ context: ChannelHandlerContext) {
        guard let deadline = state?.deadline else { return }
        if let current = timerDeadline, current <= deadline.at { return }
        timer?.cancel()
        timerDeadline = deadline.at
        let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline.at) {
            handler.value.fired(loopContext.value)
        }
    }

    private func fired(_ context: ChannelHandlerContext) {
        timer = nil
        timerDeadline = nil
        guard let state else { return }
        if let reason = state.expired(now: .now()) {
            self.state = nil
            metrics.closed(reason)
            context.close(promise: nil)
        } else {
            rearm(context)
        }
    }
}

/// Reports raw inbound bytes to its `ConnectionGuardHandler`; passes everything on untouched.
private final class ByteObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private weak var owner: ConnectionGuardHandler?
    private let ownerContext: ChannelHandlerContext

    init(owner: ConnectionGuardHandler, context: ChannelHandlerContext) {
        self.owner = owner
        self.ownerContext = context
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        owner?.rawBytes(ownerContext)
        context.fireChannelRead(data)
    }

    /// Seen here, at the front, before the HTTP handlers can hold it back.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed { owner?.inputClosed(ownerContext) }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Connection counts and the closes by reason, resolved once for every connection.
final class ConnectionMetrics: Sendable {
    private let closes: [ConnectionTimeouts.Reason: Counter]
    let open: Gauge

    init(factory: any MetricsFactory) {
        var closes: [ConnectionTimeouts.Reason: Counter] = [:]
        for reason in ConnectionTimeouts.Reason.allCases {
            let counter = Counter(label: "abm_http_connections_closed_total", dimensions: [("reason", reason.rawValue)], factory: factory)
            counter.increment(by: 0)
            closes[reason] = counter
        }
        self.closes = closes
        self.open = Gauge(label: "abm_http_connections", factory: factory)
        open.record(0)
    }

    func closed(_ reason: ConnectionTimeouts.Reason) { closes[reason]?.increment() }
}
