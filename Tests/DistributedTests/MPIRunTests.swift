import Foundation
import XCTest

/// Runs `mlw run` under `mpirun --oversubscribe -np 2` (Open MPI) and checks data-parallel
/// training end to end: equal to one process within 1e-5, bit-identical between runs, a
/// killed rank ending the job, resume equal to an uninterrupted run. Skipped with a message
/// when mpirun or the built mlw is missing (Scripts/test installs Open MPI and builds first).
final class MPIRunTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var mlw: String { root.appendingPathComponent(".build/debug/mlw").path }

    var dir: URL!

    override func setUpWithError() throws {
        guard let _ = Self.which("mpirun") else { throw XCTSkip("mpirun is missing (install the Debian packages openmpi-bin and libopenmpi-dev)") }
        guard FileManager.default.isExecutableFile(atPath: Self.mlw) else { throw XCTSkip("\(Self.mlw) is not built (swift build first)") }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-mpi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { if let dir { try? FileManager.default.removeItem(at: dir) } }

    static func which(_ tool: String) -> String? {
        for d in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(d)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    struct Result { var status: Int32; var out: String; var err: String; var seconds: Double }

    /// `mpirun -np n mlw run --no-record <script>` (n = 0: plain `mlw run`); the script's text
    /// is written to `dir` (where the scripts write their results).
    func launch(_ script: String, np: Int, env extra: [String: String] = [:], timeout: Double = 120,
                whileRunning: ((Process) -> Void)? = nil) throws -> Result {
        let p = Process()
        let path = dir.appendingPathComponent("script-\(UUID().uuidString).mlw").path
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        var args = ["run", "--no-record", path]
        if np > 0 {
            p.executableURL = URL(fileURLWithPath: Self.which("mpirun")!)
            // Root (containers, CI) needs the explicit allowance; --oversubscribe: 2 ranks on fewer cores.
            args = ["--oversubscribe", "-np", String(np)] + (getuid() == 0 ? ["--allow-run-as-root"] : []) + ["--mca", "btl", "self,vader,tcp", Self.mlw] + args
        } else {
            p.executableURL = URL(fileURLWithPath: Self.mlw)
        }
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["MLW_THREADS"] = "1"
        for (k, v) in extra { env[k] = v }
        p.environment = env
        let out = dir.appendingPathComponent("stdout-\(UUID().uuidString)"), err = dir.appendingPathComponent("stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil); FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out); p.standardError = try FileHandle(forWritingTo: err)
        let t0 = Date()
        try p.run()
        whileRunning?(p)
        while p.isRunning && Date().timeIntervalSince(t0) < timeout { usleep(20_000) }
        if p.isRunning { p.terminate(); p.waitUntilExit(); XCTFail("\(script) still running after \(timeout) s") }
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                      err: (try? String(contentsOf: err, encoding: .utf8)) ?? "", seconds: Date().timeIntervalSince(t0))
    }

    /// The float32 weights of a saved model: the safetensors data after the model file's
    /// 40-byte preamble, its header JSON and the safetensors header (Docs/formats.md).
    func weights(_ name: String) throws -> [Float] {
        let b = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name)))
        func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }
        let st = 40 + u64(16)
        let data = st + 8 + u64(st)
        return b[data...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// The training script: one epoch of a small MLP on 500 rows, global batch 63 (shards of
    /// 32 and 31, a short last batch); saves the model and the test accuracy under `tag`.
    func parity(_ tag: String, deterministic: Bool = true) -> String {
        """
        let n = 500
        let d = {x: randn([n, 10], seed: 1), y: tensor(map(range(n), |i| i % 3))}
        let t = {x: randn([200, 10], seed: 2), y: tensor(map(range(200), |i| i % 3))}
        let m = sequential([dense(10, 32), relu(), dense(32, 3)], seed: 3)
        let r = train(m, d, epochs: 1, batch: 63, optimizer: sgd(lr: 0.05, momentum: 0.9), seed: 5, deterministic: \(deterministic))
        let w = world()
        save(r.model, "\(dir.path)/\(tag)" + (if w.rank == 0 { "" } else { "-rank" + str(w.rank) }) + ".mlwm")
        let e = evaluate(r.model, t)   # collective under mpirun: every rank calls it
        if w.rank == 0 { write_text("\(dir.path)/\(tag).acc", str(e.accuracy) + " " + str(e.confusion)); write_text("\(dir.path)/\(tag).logloss", str(e.log_loss)) }
        """
    }

    /// One epoch on two ranks against one process on the same global batches; two 2-rank
    /// runs in deterministic mode bit for bit.
    func testTwoRanksMatchOneProcessAndRepeatBitForBit() throws {
        let single = try launch(parity("single"), np: 0)
        XCTAssertEqual(single.status, 0, single.err)
        for tag in ["a", "b"] {
            let r = try launch(parity(tag), np: 2)
            XCTAssertEqual(r.status, 0, r.err + r.out)
            // Only rank 0 prints.
            XCTAssertEqual(r.err.components(separatedBy: "epoch 1/1").count - 1, 1, r.err)
        }
        let w1 = try weights("single.mlwm"), a = try weights("a.mlwm"), b = try weights("b.mlwm")
        XCTAssertEqual(a, b, "two 2-rank runs differ")
        XCTAssertEqual(try weights("a-rank1.mlwm"), a, "ranks hold different weights")
        XCTAssertEqual(w1.count, a.count)
        var diff = 0.0, norm = 0.0
        for (x, y) in zip(w1, a) { diff += Double(x - y) * Double(x - y); norm += Double(x) * Double(x) }
        XCTAssertLessThan((diff / norm).squareRoot(), 1e-5, "2 ranks vs 1 process: relative weight difference")
        let acc1 = try String(contentsOf: dir.appendingPathComponent("single.acc"), encoding: .utf8)
        let acc2 = try String(contentsOf: dir.appendingPathComponent("a.acc"), encoding: .utf8)
        XCTAssertEqual(acc1, acc2)
        // Distributed evaluate (each rank predicts half the rows) gives the same metrics.
        let l1 = try XCTUnwrap(Double(try String(contentsOf: dir.appendingPathComponent("single.logloss"), encoding: .utf8)))
        let l2 = try XCTUnwrap(Double(try String(contentsOf: dir.appendingPathComponent("a.logloss"), encoding: .utf8)))
        XCTAssertEqual(l1, l2, accuracy: 1e-6)
    }

    /// Checkpoint after 2 of 4 epochs on two ranks, resume on two ranks: the uninterrupted model.
    func testResumeOnTwoRanksEqualsUninterrupted() throws {
        let common = "let d = {x: randn([300, 6], seed: 1), y: tensor(map(range(300), |i| i % 3))}\n"
            + "let m = sequential([dense(6, 16), relu(), dropout(0.1), dense(16, 3)], seed: 3)\n"
        let script = common + """
            let full = train(m, d, epochs: 4, batch: 32, seed: 9, log_every: 0)
            let part = train(m, d, epochs: 2, batch: 32, seed: 9, log_every: 0, checkpoint: "\(dir.path)/ckpt", checkpoint_every: 1)
            let rest = train(m, d, epochs: 4, batch: 32, seed: 9, log_every: 0, resume: "\(dir.path)/ckpt")
            if world().rank == 0 {
              save(full.model, "\(dir.path)/full.mlwm")
              save(rest.model, "\(dir.path)/resumed.mlwm")
              print("resumed at epoch " + str(rest.history[1].epoch))
            }
            """
        let r = try launch(script, np: 2)
        XCTAssertEqual(r.status, 0, r.err + r.out)
        XCTAssertEqual(try weights("full.mlwm"), try weights("resumed.mlwm"))
        XCTAssertTrue(r.out.contains("resumed at epoch 2"), r.out)
    }

    /// A rank killed mid-epoch: the job ends within 10 s with an error naming the rank.
    func testKilledRankEndsTheJob() throws {
        var killedAt: Date?
        let script = """
            let d = {x: randn([4000, 20], seed: 1), y: tensor(map(range(4000), |i| i % 2))}
            if world().rank == 1 { write_text("\(dir.path)/rank1.started", "") }
            train(sequential([dense(20, 64), relu(), dense(64, 2)], seed: 1), d, epochs: 1000, batch: 8, log_every: 0)
            """
        let r = try launch(script, np: 2, env: ["MLW_MPI_TIMEOUT": "5"], timeout: 60) { _ in
            // Rank 1's process: the mlw whose environment says rank 1 and whose script is in `dir`.
            let started = self.dir.appendingPathComponent("rank1.started").path
            let t0 = Date()
            while Date().timeIntervalSince(t0) < 30 {
                if FileManager.default.fileExists(atPath: started), let pid = Self.rankProcess(1, under: self.dir.path) {
                    usleep(300_000)   // into the epoch
                    kill(pid, SIGKILL)
                    killedAt = Date()
                    return
                }
                usleep(20_000)
            }
        }
        let killed = try XCTUnwrap(killedAt, "rank 1 never started training")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertLessThan(Date().timeIntervalSince(killed), 10)
        XCTAssertTrue((r.err + r.out).contains("rank 1"), r.err + r.out)
    }

    /// Distributed training without Open MPI's library: a clear error naming the Debian packages
    /// (the launcher's environment is set by hand; the library path points nowhere).
    func testMissingLibraryNamesThePackages() throws {
        let script = "train(sequential([dense(2, 2)]), {x: ones([4, 2]), y: tensor([0, 1, 0, 1])}, epochs: 1, log_every: 0)"
        let r = try launch(script, np: 0, env: ["OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "2", "MLW_MPI_LIBRARY": "/nonexistent/libmpi.so.40"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("install the Debian packages openmpi-bin and libopenmpi-dev"), r.err)
        XCTAssertTrue(r.err.contains(":1:1:"), r.err)   // the script's place
    }

    /// Two "hosts": network namespaces named by their addresses, joined by a veth pair;
    /// mpirun's rsh agent is `ip netns exec` (through a small wrapper; no ssh), ranks talk TCP.
    /// Deterministic mode gives the same bits as two ranks over shared memory. Needs root
    /// and `ip netns` (skipped otherwise).
    func testTwoHostsInNetworkNamespaces() throws {
        guard getuid() == 0, let ip = Self.which("ip") ?? ["/usr/sbin/ip", "/sbin/ip"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("the two-host test needs root and iproute2 (ip netns)")
        }
        let net = "10.77.\(Int.random(in: 1...250))", h1 = net + ".1", h2 = net + ".2"
        let veth = "mlw\(Int.random(in: 1000...9999))"
        func sh(_ args: [String]) -> Int32 {
            let p = Process(); p.executableURL = URL(fileURLWithPath: ip); p.arguments = args
            p.standardError = FileHandle.nullDevice
            do { try p.run() } catch { return -1 }
            p.waitUntilExit(); return p.terminationStatus
        }
        guard sh(["netns", "add", h1]) == 0 else { throw XCTSkip("this machine does not allow ip netns add") }
        defer { _ = sh(["netns", "del", h1]); _ = sh(["netns", "del", h2]) }   // deletes the veth pair too
        for cmd in [["netns", "add", h2], ["link", "add", veth + "a", "type", "veth", "peer", "name", veth + "b"],
                    ["link", "set", veth + "a", "netns", h1], ["link", "set", veth + "b", "netns", h2],
                    ["-n", h1, "addr", "add", h1 + "/24", "dev", veth + "a"], ["-n", h2, "addr", "add", h2 + "/24", "dev", veth + "b"],
                    ["-n", h1, "link", "set", "lo", "up"], ["-n", h2, "link", "set", "lo", "up"],
                    ["-n", h1, "link", "set", veth + "a", "up"], ["-n", h2, "link", "set", veth + "b", "up"]] {
            guard sh(cmd) == 0 else { throw XCTSkip("could not set up the namespaces (ip \(cmd.joined(separator: " ")))") }
        }
        // mpirun passes the remote command as words for a shell (as ssh would).
        let agent = dir.appendingPathComponent("nsexec").path
        try "#!/bin/sh\nhost=$1; shift\nexec \(ip) netns exec \"$host\" /bin/sh -c \"$*\"\n".write(toFile: agent, atomically: true, encoding: .utf8)
        chmod(agent, 0o755)
        let local = try launch(parity("local"), np: 2)
        XCTAssertEqual(local.status, 0, local.err)
        let script = dir.appendingPathComponent("twohost.mlw").path
        try parity("twohost").write(toFile: script, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ip)
        p.arguments = ["netns", "exec", h1, Self.which("mpirun")!, "-np", "2", "--allow-run-as-root", "--host", "\(h1),\(h2)",
                       "--mca", "plm_rsh_agent", agent, "--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", net + ".0/24",
                       "--mca", "oob_tcp_if_include", net + ".0/24", "-x", "MLW_THREADS=1", Self.mlw, "run", "--no-record", script]
        let err = Pipe(); p.standardError = err; p.standardOutput = FileHandle.nullDevice
        try p.run()
        let t0 = Date()
        while p.isRunning && Date().timeIntervalSince(t0) < 120 { usleep(50_000) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertEqual(try weights("twohost.mlwm"), try weights("local.mlwm"), "TCP between namespaces vs shared memory")
    }

    /// A rank that never joins a collective (here: it ran fewer epochs) is named by the watchdog.
    func testWatchdogNamesTheSilentRank() throws {
        let script = """
            let d = {x: randn([64, 4], seed: 1), y: tensor(map(range(64), |i| i % 2))}
            train(sequential([dense(4, 2)], seed: 1), d, epochs: if world().rank == 0 { 1 } else { 3 }, batch: 8, log_every: 0)
            """
        let r = try launch(script, np: 2, env: ["MLW_MPI_TIMEOUT": "2"], timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("rank 0 never joined collective"), r.err)
        XCTAssertTrue(r.err.contains("MLW_MPI_TIMEOUT"), r.err)
    }

    /// The pid of the `mlw` process of `rank` running a script under `dir` (from /proc).
    static func rankProcess(_ rank: Int, under dir: String) -> Int32? {
        guard let pids = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for p in pids {
            guard let pid = Int32(p),
                  let cmd = FileManager.default.contents(atPath: "/proc/\(p)/cmdline"),
                  let env = FileManager.default.contents(atPath: "/proc/\(p)/environ") else { continue }
            let args = cmd.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            let vars = env.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if args.first?.hasSuffix("/mlw") == true, args.contains(where: { $0.hasPrefix(dir) }),
               vars.contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
        }
        return nil
    }
}
