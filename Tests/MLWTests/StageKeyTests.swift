import Foundation
import XCTest

/// The stage cache key holds only the parameters a stage reads (Docs/frames.md, "Stage
/// cache"): changing `epochs`, used only by training, keeps the data stage cached.
final class StageKeyTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "mlw-stagekey-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let d = dir!
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
    }

    func run(_ script: String, _ sets: [String] = []) throws -> (out: String, err: String) {
        try Data(script.utf8).write(to: URL(fileURLWithPath: dir + "/s.mlw"))
        var args = ["run", "--no-record", "s.mlw"]
        for s in sets { args += ["--set", s] }
        let (out, err, code) = try ReplTests.mlw(args, env: ["MLW_HOME": dir + "/home"], in: dir)
        XCTAssertEqual(code, 0, err)
        return (out, err)
    }

    /// The stage lines of a run, e.g. ["prepare loaded", "train ran"].
    func stages(_ err: String) -> [String] {
        err.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("stage '"), let end = line.dropFirst(7).firstIndex(of: "'") else { return nil }
            let name = line[line.index(line.startIndex, offsetBy: 7)..<end]
            return "\(name) " + (line.contains("up to date") ? "loaded" : "ran")
        }
    }

    static let pipeline = """
        param epochs = 2
        param scale = 3
        param seed = 1
        let base = [1, 2, 3]
        fn prep(xs) = map(xs, |x| x * scale)
        let data = stage("prepare", inputs: [base]) { prep(base) }
        let model = stage("train") { {w: sum(data) * epochs, seed: seed} }
        print(data, model.w)
        """

    func testAnUnrelatedParameterKeepsTheDataStageCached() throws {
        XCTAssertEqual(stages(try run(Self.pipeline).err), ["prepare ran", "train ran"])
        XCTAssertEqual(stages(try run(Self.pipeline).err), ["prepare loaded", "train loaded"])
        // epochs is read only by training: data preparation stays cached.
        let changed = try run(Self.pipeline, ["epochs=5"])
        XCTAssertEqual(stages(changed.err), ["prepare loaded", "train ran"])
        XCTAssertEqual(changed.out, "[3, 6, 9] 90\n")
        // scale is read by prep(), which the data stage calls; training reads the data.
        let rescaled = try run(Self.pipeline, ["epochs=5", "scale=2"])
        XCTAssertEqual(stages(rescaled.err), ["prepare ran", "train ran"])
        XCTAssertEqual(rescaled.out, "[2, 4, 6] 60\n")
        // seed is read only by training.
        XCTAssertEqual(stages(try run(Self.pipeline, ["epochs=5", "scale=2", "seed=4"]).err), ["prepare loaded", "train ran"])
    }

    func testValuesDerivedFromParametersAreFollowed() throws {
        // `n` comes from `epochs` through a var that a loop changes: both count.
        let script = """
            param epochs = 2
            param other = 0
            var n = 0
            for i in range(epochs) { n += 1 }
            let v = stage("count") { n * 10 }
            print(v)
            """
        XCTAssertEqual(stages(try run(script).err), ["count ran"])
        XCTAssertEqual(stages(try run(script, ["other=1"]).err), ["count loaded"])
        let more = try run(script, ["epochs=3", "other=1"])
        XCTAssertEqual(stages(more.err), ["count ran"])
        XCTAssertEqual(more.out, "30\n")
    }

    func testATopLevelFunctionAsTheBody() throws {
        let script = """
            param epochs = 2
            param scale = 3
            fn prepare() { map([1, 2], |x| x * scale) }
            print(stage("prepare", prepare))
            """
        XCTAssertEqual(stages(try run(script).err), ["prepare ran"])
        XCTAssertEqual(stages(try run(script, ["epochs=9"]).err), ["prepare loaded"])
        let rescaled = try run(script, ["scale=5"])
        XCTAssertEqual(stages(rescaled.err), ["prepare ran"])
        XCTAssertEqual(rescaled.out, "[5, 10]\n")
    }

    func testWhatTheFileCannotShowKeysOnEveryParameter() throws {
        // Inside a function the block reads the function's parameter: every param counts.
        let script = """
            param a = 1
            param b = 2
            fn go(k) = stage("inner") { k * 2 }
            print(go(a))
            """
        XCTAssertEqual(stages(try run(script).err), ["inner ran"])
        XCTAssertEqual(stages(try run(script, ["b=3"]).err), ["inner ran"], "b may reach the block through k")
        // params() reads them all.
        let all = "param a = 1\nparam b = 2\nprint(stage(\"all\") { params().a })\n"
        XCTAssertEqual(stages(try run(all).err), ["all ran"])
        XCTAssertEqual(stages(try run(all, ["b=3"]).err), ["all ran"])
    }
}
