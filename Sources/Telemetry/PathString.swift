/// Path arithmetic on plain strings. Foundation's `NSString` path APIs trap on some one-character strings on
/// Linux (`ABM_DATA_DIR=x` once crashed the first readiness probe), so nothing in the project uses them.
public enum PathString {
    /// The parent directory: "a/b" -> "a", "a/b/" -> "a", "a" -> ".", "/a" -> "/", "/" -> "/", "" -> ".".
    public static func parent(of path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "." }
        if slash == p.startIndex { return "/" }
        return String(p[..<slash])
    }

    /// The last component: "a/b" -> "b", "a/b/" -> "b", "b" -> "b", "/" -> "/".
    public static func lastComponent(of path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/"), p.count > 1 else { return String(p) }
        return String(p[p.index(after: slash)...])
    }
}
