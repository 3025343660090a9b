import XCTest
import Tensor
@testable import Train

/// Issue 15: the training bar left stale characters and printed one line per epoch; now one
/// bar per run, redrawn over a cleared line, and one summary line; plain lines off a terminal.
final class ProgressTests: XCTestCase {
    func rec(_ e: Int, loss: Double, acc: Double? = 0.5, val: Double? = nil) -> EpochRecord {
        EpochRecord(epoch: e, loss: loss, accuracy: acc, valLoss: val, valAccuracy: nil, seconds: 0.25, samplesPerSecond: 4000)
    }

    func spaces(_ n: Int) -> String { String(repeating: " ", count: n) }

    func testRedrawClearsTheLineAndClipsToTheTerminal() {
        XCTAssertEqual(ProgressText.redraw("epoch 1/2", columns: 80), "\r\u{1B}[Kepoch 1/2")
        let long = String(repeating: "x", count: 200)
        XCTAssertEqual(ProgressText.redraw(long, columns: 40), "\r\u{1B}[K" + String(repeating: "x", count: 38) + "…")
        XCTAssertEqual(ProgressText.redraw(long, columns: 40).count, 4 + 39)   // never the last column
    }

    func testBarText() {
        let start = ProgressText.bar(epoch: 1, epochs: 4, done: 1, total: 40, loss: 2.30261, accuracy: 0.1, last: nil,
                                     samplesPerSecond: 1234.6, eta: 12.4)
        XCTAssertEqual(start, "epoch 1/4 [>" + spaces(19) + "] 2% eta 12s loss 2.3026 acc 0.1 1234 samples/s")
        let mid = ProgressText.bar(epoch: 3, epochs: 4, done: 25, total: 40, loss: 0.5, accuracy: nil, last: rec(2, loss: 0.6, val: 0.7),
                                   samplesPerSecond: 99, eta: 125)
        XCTAssertEqual(mid, "epoch 3/4 [" + String(repeating: "=", count: 12) + ">" + spaces(7) + "] 62% eta 2m05s loss 0.5 val_loss 0.7 99 samples/s")
        let end = ProgressText.bar(epoch: 4, epochs: 4, done: 40, total: 40, loss: 0.1, accuracy: nil, last: nil,
                                   samplesPerSecond: .infinity, eta: 0)
        XCTAssertEqual(end, "epoch 4/4 [" + String(repeating: "=", count: 20) + "] 100% eta 0.0s loss 0.1 0 samples/s")
    }

    func testSummaryLine() {
        let h = (1...3).map { rec($0, loss: 1.0 / Double($0), val: 0.9) }
        XCTAssertEqual(ProgressText.summary(h, epochs: 5, seconds: 3.21, stoppedEarly: true, cancelled: false),
                       "trained 3/5 epochs in 3.2s, loss █▃▁ 0.3333 acc 0.5 val_loss 0.9 (stopped early)")
        XCTAssertEqual(ProgressText.summary([], epochs: 5, seconds: 0, stoppedEarly: false, cancelled: true),
                       "trained 0/5 epochs in 0.0s (cancelled)")
    }

    func testSparklineHasAFixedWidth() {
        XCTAssertEqual(sparkline([3, 2, 1, 0.5]), "█▅▂▁")
        XCTAssertEqual(sparkline([]), "")
        XCTAssertEqual(sparkline([1, 1, 1]), "▁▁▁")
        for n in [20, 21, 57, 1000, 100_000] {
            let xs = (0..<n).map { 1 / Double($0 + 1) }
            XCTAssertEqual(sparkline(xs).count, 20, "n = \(n)")
        }
        let falling = sparkline((0..<1000).map { Double(1000 - $0) })
        XCTAssertEqual(falling.first, "█"); XCTAssertEqual(falling.last, "▁")
        XCTAssertEqual(sparkline([1, .nan, 0]), "█▁▁")
        XCTAssertEqual(sparkline((0..<9).map(Double.init), width: 3), "▁▅█")
    }

    /// A recorder for what TrainProgress writes, with a clock the test moves.
    final class Screen {
        var text = ""
        var now = 0.0
    }

    func progress(_ s: Screen, terminal: Bool, logEvery: Int = 1, epochs: Int = 3, steps: Int = 4) -> TrainProgress {
        TrainProgress(epochs: epochs, steps: steps, logEvery: logEvery, classify: true, terminal: terminal,
                      write: { s.text += $0 }, columns: { 120 }, clock: { s.now })
    }

    func run(_ p: TrainProgress, _ s: Screen, epochs: Int = 3, steps: Int = 4) {
        var history: [EpochRecord] = []
        for e in 0..<epochs {
            for st in 0..<steps {
                s.now += 0.0625
                p.batch(epoch: e, step: st, seen: 10 * (st + 1), lossSum: 10 * Double(st + 1), correct: 5 * (st + 1), elapsed: 0.0625 * Double(st + 1))
            }
            let r = rec(e + 1, loss: 1 / Double(e + 1))
            history.append(r)
            p.epochEnded(r)
        }
        p.finish(history: history, stoppedEarly: false, cancelled: false)
    }

    func testOnATerminalOneBarRedrawnInPlaceThenOneSummaryLine() {
        let s = Screen()
        run(progress(s, terminal: true), s)
        XCTAssertEqual(s.text.filter { $0 == "\n" }.count, 1, s.text)   // one line in the end
        XCTAssertTrue(s.text.hasSuffix("\r\u{1B}[Ktrained 3/3 epochs in 0.8s, loss █▃▁ 0.3333 acc 0.5\n"), s.text)
        let redraws = s.text.components(separatedBy: "\r\u{1B}[K").dropFirst()
        XCTAssertEqual(redraws.first, "epoch 1/3 [=>" + spaces(18) + "] 8% eta 0.7s loss 1.0 acc 0.5 160 samples/s")
        // Throttled to 0.1 s: every second batch here, plus each epoch's last and the summary.
        XCTAssertEqual(redraws.count, 8, s.text)
        XCTAssertFalse(s.text.contains("\nepoch"), s.text)
    }

    func testTheSummaryIsNotClipped() {
        let s = Screen()
        let p = TrainProgress(epochs: 1, steps: 1, logEvery: 1, classify: false, terminal: true,
                              write: { s.text += $0 }, columns: { 20 }, clock: { s.now })
        p.batch(epoch: 0, step: 0, seen: 1, lossSum: 1, correct: 0, elapsed: 1)
        XCTAssertTrue(s.text.hasSuffix("…"), s.text)   // the bar is clipped to the terminal
        p.epochEnded(rec(1, loss: 1, acc: nil))
        p.finish(history: [rec(1, loss: 1, acc: nil)], stoppedEarly: false, cancelled: false)
        XCTAssertTrue(s.text.hasSuffix("\r\u{1B}[Ktrained 1/1 epochs in 0.0s, loss ▁ 1.0\n"), s.text)
    }

    func testOffATerminalPlainLinesEveryLogEvery() {
        let s = Screen()
        run(progress(s, terminal: false, logEvery: 2, epochs: 4), s, epochs: 4)
        XCTAssertEqual(s.text, "epoch 2/4 loss 0.5 acc 0.5 0.25s 4000 samples/s\nepoch 4/4 loss 0.25 acc 0.5 0.25s 4000 samples/s\n")
        XCTAssertFalse(s.text.contains("\u{1B}"))
    }

    func testSilentWithLogEveryZero() {
        for terminal in [true, false] {
            let s = Screen()
            run(progress(s, terminal: terminal, logEvery: 0), s)
            XCTAssertEqual(s.text, "")
        }
    }

    func testAnAbandonedBarIsCleared() {
        let s = Screen()
        do {
            let p = progress(s, terminal: true)
            p.batch(epoch: 0, step: 0, seen: 1, lossSum: 1, correct: 1, elapsed: 1)
        }
        XCTAssertTrue(s.text.hasSuffix("\r\u{1B}[K"), s.text)   // an error message starts on a clean line
    }

    func testTrainOffATerminalStillRuns() throws {
        // The real loop with the bar's call sites; stderr is not a terminal under the test runner.
        let m = try sequential([dense(2, 1)], seed: 1)
        let x = try Tensor([0, 1, 1, 0, 1, 1, 0, 0] as [Float], shape: [4, 2])
        let y = try Tensor([1, 1, 2, 0] as [Float], shape: [4, 1])
        let r = try train(m, x: x, y: y, loss: .mse, optimizer: SGD(lr: 0.1), epochs: 3, batch: 2, logEvery: 0)
        XCTAssertEqual(r.history.count, 3)
    }
}
