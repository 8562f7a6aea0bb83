import Foundation
import Testing

@testable import Telemetry

@Suite struct PathStringTests {
    @Test(arguments: [
        ("a/b", "a"), ("a/b/", "a"), ("a", "."), ("x", "."), ("/a", "/"), ("/", "/"), ("", "."), ("./x", "."), ("/var/lib/abm", "/var/lib"),
    ])
    func parent(_ path: String, _ expected: String) {
        #expect(PathString.parent(of: path) == expected)
    }

    @Test(arguments: [("a/b", "b"), ("a/b/", "b"), ("b", "b"), ("/", "/"), ("/x", "x"), ("x", "x")])
    func lastComponent(_ path: String, _ expected: String) {
        #expect(PathString.lastComponent(of: path) == expected)
    }

    /// `ABM_JOB_STORE=memory ABM_DATA_DIR=x`, a one-character directory that does not exist: the disk check
    /// measures the working directory's file system instead of crashing.
    @Test func diskCheckOnAMissingOneCharacterDirectory() async {
        let result = await DiskSpaceCheck(path: "x-does-not-exist/y", minimumFreeBytes: 0).check()
        #expect(result.status == .pass)
        #expect(DiskSpaceCheck.freeBytes(at: "q")?.at == ".")
        #expect(DiskSpaceCheck(path: "q", minimumFreeBytes: 0).failure() == nil)
        #expect(DiskSpaceCheck(path: "q", minimumFreeBytes: UInt64.max).failure()?.contains("bytes free") == true)
    }
}
