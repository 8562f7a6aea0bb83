import Foundation

/// A value set inside a closure that runs elsewhere (a database transaction, a worker thread) and read after it.
final class Box<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    var value: T? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
