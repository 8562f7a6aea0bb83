import Foundation
import Testing
import TestSupport

/// Several instances of the real binary over one real PostgreSQL job store (scripts/cluster-tests.py holds
/// the checks, and starts and stops PostgreSQL, the instances and HAProxy by PID): work submitted on one
/// instance is followed, read and cancelled on the others; `kill -9` and `SIGSTOP` of an instance lose no
/// job; a rolling restart behind HAProxy fails no request; the queue bound is one bound for the cluster.
extension RealProcessTests {
@Suite(.serialized) struct ClusterTests {
    static var tools: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/15/bin/postgres")
            && FileManager.default.isExecutableFile(atPath: "/usr/sbin/haproxy")
    }

    func run(_ scenario: String, port: Int) async throws -> String {
        let script = SimulateCommandTests.root.appendingPathComponent("scripts/cluster-tests.py").path
        let binary = SimulateCommandTests.binary.path
        let (status, output) = try await offPool { try runProgram("/usr/bin/python3", [script, binary, "\(port)", scenario]) }
        let summary = output.split(separator: "\n").filter { $0.hasPrefix("ok:") || $0.hasPrefix("FAIL") || $0 == "PASS" }.joined(separator: "\n")
        #expect(status == 0, "\(scenario):\n\(output.suffix(6000))")
        #expect(output.contains("\nPASS"), "\(summary)")
        return output
    }

    @Test(.enabled(if: tools, "needs root (PostgreSQL runs as postgres), PostgreSQL 15 and HAProxy"), .timeLimit(.minutes(2)))
    func workSubmittedOnOneInstanceIsSeenAndCancelledOnTheOthers() async throws {
        let out = try await run("spread", port: 17700)
        #expect(out.contains("ok: a stream on instance 3 followed a job submitted on instance 1; resumed on instance 2 with Last-Event-ID"))
        #expect(out.contains("with none skipped or repeated, to done"))
        #expect(out.contains("ok: instance 2 reads the completed job and its result, identical to a sync run on instance 3"))
        #expect(out.contains("stopped the job running on instance"))
    }

    @Test(.enabled(if: tools, "needs root (PostgreSQL runs as postgres), PostgreSQL 15 and HAProxy"), .timeLimit(.minutes(3)))
    func aKilledInstancesJobsCompleteElsewhere() async throws {
        let out = try await run("kill-9", port: 17720)
        #expect(out.contains("ok: another instance took the interrupted job over"))
        #expect(out.contains("ok: all 6 jobs completed"))
        #expect(out.contains("each identical to a sync run and committed once"))
    }

    @Test(.enabled(if: tools, "needs root (PostgreSQL runs as postgres), PostgreSQL 15 and HAProxy"), .timeLimit(.minutes(2)))
    func aPausedInstanceLosesItsLeaseAndItsLateWrites() async throws {
        let out = try await run("sigstop", port: 17740)
        #expect(out.contains("took the job over once the lease expired"))
        #expect(out.contains("found its lease lost and counted it"))
        #expect(out.contains("1 stored result, 0 staged left"))
    }

    @Test(.enabled(if: tools, "needs root (PostgreSQL runs as postgres), PostgreSQL 15 and HAProxy"), .timeLimit(.minutes(3)))
    func aRollingRestartBehindHAProxyFailsNoRequest() async throws {
        let out = try await run("rolling", port: 17760)
        #expect(out.contains("during the rolling restart of 3 instances, every one 200"))
    }

    @Test(.enabled(if: tools, "needs root (PostgreSQL runs as postgres), PostgreSQL 15 and HAProxy"), .timeLimit(.minutes(2)))
    func theQueueBoundHoldsAcrossInstances() async throws {
        let out = try await run("bound", port: 17780)
        #expect(out.contains("10 admitted, 50 refused with 429; pending never above 10"))
    }
}
}
