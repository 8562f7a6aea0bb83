#if canImport(Glibc)
import Glibc
#endif

/// Fits the connection cap to the open-file limit: raises the soft limit towards the hard one when the
/// cap needs it, and otherwise lowers the cap, keeping `reserve` descriptors for files, the database and
/// the listener. Without this, connections at the limit fail their accept with EMFILE over and over.
enum FileDescriptorLimit {
    static let reserve = 256

    /// The cap to use and, when it had to change, why.
    static func fit(connections wanted: Int) -> (connections: Int, note: String?) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (wanted, nil) }
        let needed = rlim_t(wanted + reserve)
        if limit.rlim_cur >= needed { return (wanted, nil) }
        let raised = min(limit.rlim_max, needed)
        if raised > limit.rlim_cur {
            var new = limit
            new.rlim_cur = raised
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &new) == 0 { limit = new }
        }
        if limit.rlim_cur >= needed { return (wanted, nil) }
        let fitted = max(16, Int(limit.rlim_cur) - reserve)
        return (
            fitted,
            "ABM_MAX_CONNECTIONS=\(wanted) needs \(wanted + reserve) open files but the limit is \(limit.rlim_cur) (hard \(limit.rlim_max)); serving at most \(fitted) connections. Raise LimitNOFILE."
        )
    }
}
