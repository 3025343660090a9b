import Support
#if canImport(Glibc)
import Glibc
#endif

/// What `train` prints while it runs, on standard error.
///
/// On a terminal: one bar for the whole run, redrawn in place (`\r` then ESC[K, which
/// clears the rest of the line, so a shorter redraw leaves no stale characters), at most
/// ten times a second, clipped to the terminal's width (a wrapped line could not be
/// redrawn); when the run ends the bar is replaced by one summary line (never clipped).
/// Elsewhere (a file, a pipe, a test): one plain line every `logEvery` epochs, no bar, no
/// escapes.
/// `logEvery: 0` prints nothing either way.
///
///     let p = TrainProgress(epochs: 20, steps: 10, logEvery: 1, classify: true)
///     p.batch(epoch: 0, step: 0, seen: 32, lossSum: 70.1, correct: 12, elapsed: 0.01)
///     p.epochEnded(record); p.finish(history: history, stoppedEarly: false, cancelled: false)
public final class TrainProgress {
    let epochs: Int, steps: Int, logEvery: Int, classify: Bool
    let terminal: Bool
    let write: (String) -> Void
    let columns: () -> Int
    let clock: () -> Double
    let start: Double
    var lastDraw = -Double.infinity
    /// The last finished epoch, shown on the bar beside the running epoch.
    var last: EpochRecord?
    var drawn = false

    /// `terminal` and `write` default to standard error (a bar when it is a terminal);
    /// tests pass their own.
    public init(epochs: Int, steps: Int, logEvery: Int, classify: Bool,
                terminal: Bool = isatty(2) == 1,
                write: @escaping (String) -> Void = { fputs($0, stderr) },
                columns: @escaping () -> Int = terminalColumns,
                clock: @escaping () -> Double = monotonicSeconds) {
        self.epochs = epochs; self.steps = max(steps, 1); self.logEvery = logEvery; self.classify = classify
        self.terminal = terminal; self.write = write; self.columns = columns; self.clock = clock
        start = clock()
    }

    /// A batch finished: redraws the bar (on a terminal, at most every 0.1 s, and always
    /// for an epoch's last batch).
    public func batch(epoch: Int, step: Int, seen: Int, lossSum: Double, correct: Int, elapsed: Double) {
        guard terminal && logEvery > 0 else { return }
        let now = clock()
        guard step + 1 == steps || now - lastDraw >= 0.1 else { return }
        lastDraw = now
        let done = epoch * steps + step + 1, total = max(epochs * steps, 1)
        let rate = Double(seen) / max(elapsed, 1e-9)
        let runElapsed = now - start
        let eta = runElapsed / Double(done) * Double(total - done)
        let text = ProgressText.bar(epoch: epoch + 1, epochs: epochs, done: done, total: total,
                                    loss: lossSum / Double(max(seen, 1)),
                                    accuracy: classify ? Double(correct) / Double(max(seen, 1)) : nil,
                                    last: last, samplesPerSecond: rate, eta: eta)
        write(ProgressText.redraw(text, columns: columns()))
        drawn = true
    }

    /// An epoch finished: kept for the bar; off a terminal, its line every `logEvery` epochs.
    public func epochEnded(_ rec: EpochRecord) {
        last = rec
        guard logEvery > 0, !terminal, rec.epoch % logEvery == 0 else { return }
        write(ProgressText.epochLine(rec, epochs: epochs) + "\n")
    }

    /// The run ended: on a terminal the bar becomes one summary line.
    public func finish(history: [EpochRecord], stoppedEarly: Bool, cancelled: Bool) {
        guard terminal && logEvery > 0 else { return }
        let text = ProgressText.summary(history, epochs: epochs, seconds: clock() - start,
                                        stoppedEarly: stoppedEarly, cancelled: cancelled)
        write(ProgressText.clear + text + "\n")   // not clipped: a finished line may wrap
        drawn = false
    }

    /// A run that ends by an error leaves a clean line for the error message.
    deinit { if drawn { write(ProgressText.clear) } }
}

/// The texts `TrainProgress` prints, as pure functions (tested without a terminal).
public enum ProgressText {
    /// Carriage return, then erase to the end of the line (ECMA-48 EL, `ESC [ K`).
    public static let clear = "\r\u{1B}[K"
    /// Cells of the bar itself.
    public static let barWidth = 20
    /// Characters of the summary's loss sparkline (more epochs are resampled to it).
    public static let sparklineWidth = 20

    /// A redraw: back to the line's start, clear it, the text clipped to `columns - 1`
    /// characters (writing the last column makes some terminals wrap).
    public static func redraw(_ text: String, columns: Int) -> String {
        let room = max(columns - 1, 10)
        return clear + (text.count > room ? String(text.prefix(room - 1)) + "…" : text)
    }

    /// The run's bar: `epoch 3/20 [====>     ] 45% eta 4.0s loss 0.2 acc 0.9 val_loss 0.3 1200 samples/s`
    /// (what matters most first: a narrow terminal clips the end).
    public static func bar(epoch: Int, epochs: Int, done: Int, total: Int, loss: Double, accuracy: Double?,
                           last: EpochRecord?, samplesPerSecond: Double, eta: Double) -> String {
        let filled = min(barWidth, barWidth * done / max(total, 1))
        var cells = String(repeating: "=", count: filled)
        if filled < barWidth { cells += ">" + String(repeating: " ", count: barWidth - filled - 1) }
        var s = "epoch \(epoch)/\(epochs) [\(cells)] \(100 * done / max(total, 1))% eta \(duration(eta)) loss \(num(loss))"
        if let accuracy { s += " acc \(num(accuracy))" }
        if let v = last?.valLoss { s += " val_loss \(num(v))" }
        if let v = last?.valAccuracy { s += " val_acc \(num(v))" }
        return s + " \(Int(samplesPerSecond.isFinite ? samplesPerSecond : 0)) samples/s"
    }

    /// One epoch's line off a terminal (as before this file: what logs and CI see).
    public static func epochLine(_ rec: EpochRecord, epochs: Int) -> String {
        var line = "epoch \(rec.epoch)/\(epochs) loss \(num(rec.loss))"
        if let a = rec.accuracy { line += " acc \(num(a))" }
        if let v = rec.valLoss { line += " val_loss \(num(v))" }
        if let v = rec.valAccuracy { line += " val_acc \(num(v))" }
        return line + " \(num(rec.seconds))s \(Int(rec.samplesPerSecond)) samples/s"
    }

    /// The line that replaces the bar: `trained 20/20 epochs in 1.2s, loss ▇▅▃▂▁ 0.0512 acc 0.98 val_loss 0.07`.
    public static func summary(_ history: [EpochRecord], epochs: Int, seconds: Double,
                               stoppedEarly: Bool, cancelled: Bool) -> String {
        var s = "trained \(history.count)/\(epochs) epochs in \(duration(seconds))"
        if let l = history.last {
            s += ", loss \(sparkline(history.map(\.loss), width: sparklineWidth)) \(num(l.loss))"
            if let a = l.accuracy { s += " acc \(num(a))" }
            if let v = l.valLoss { s += " val_loss \(num(v))" }
            if let v = l.valAccuracy { s += " val_acc \(num(v))" }
        }
        if stoppedEarly { s += " (stopped early)" }
        if cancelled { s += " (cancelled)" }
        return s
    }

    /// Four decimals, as the epoch lines always printed them.
    static func num(_ v: Double) -> String { String((v * 10000).rounded() / 10000) }

    /// `0.4s`, `12s`, `3m05s`, `2h01m`.
    static func duration(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "?" }
        if s < 10 { return String((s * 10).rounded() / 10) + "s" }
        let t = Int(s.rounded())
        if t < 60 { return "\(t)s" }
        if t < 3600 { return "\(t / 60)m" + (t % 60 < 10 ? "0" : "") + "\(t % 60)s" }
        return "\(t / 3600)h" + ((t / 60) % 60 < 10 ? "0" : "") + "\((t / 60) % 60)m"
    }
}

/// ▁▂▃▅▇ of the values, scaled to their range, at most `width` characters: a longer series
/// is resampled to exactly `width` buckets (each the mean of its values), so a run of
/// 1,000 epochs prints as short as one of 20. Non-finite values are skipped in the scale
/// and drawn as the lowest bar.
///
///     sparkline([3, 2, 1, 0.5])   // "█▅▂▁"
public func sparkline(_ xs: [Double], width: Int = ProgressText.sparklineWidth) -> String {
    let bars = Array("▁▂▃▄▅▆▇█")
    var ys = xs
    if width > 0 && xs.count > width {
        ys = (0..<width).map { b in
            let lo = b * xs.count / width, hi = (b + 1) * xs.count / width
            return xs[lo..<hi].reduce(0, +) / Double(hi - lo)
        }
    }
    let finite = ys.filter(\.isFinite)
    guard let lo = finite.min(), let hi = finite.max(), hi > lo else { return String(repeating: "▁", count: ys.count) }
    return String(ys.map { y in
        guard y.isFinite else { return bars[0] }
        return bars[min(bars.count - 1, Int((y - lo) / (hi - lo) * Double(bars.count - 1) + 0.5))]
    })
}

/// The terminal's width in columns (standard error's), 80 when it cannot be asked.
public func terminalColumns() -> Int {
    var ws = winsize()
    if ioctl(2, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
    return 80
}
