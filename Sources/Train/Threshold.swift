/// A decision threshold for a binary model, chosen on validation scores (the positive
/// class's probabilities) and labels: with `precision`, the lowest threshold whose
/// predictions reach that precision (so recall is as high as it can be); with `recall`,
/// the highest threshold that still reaches that recall (so precision is as high as it
/// can be). Thresholds are the observed scores; a row is positive when score >= threshold.
///
///     let t = try chooseThreshold(scores: ev.scores!, labels: ev.labels!, precision: 0.9)
public func chooseThreshold(scores: [Double], labels: [Int], precision: Double? = nil, recall: Double? = nil) throws -> Double {
    guard (precision == nil) != (recall == nil) else { throw TrainError("threshold: give precision or recall (one of them)") }
    let target = precision ?? recall!
    guard target > 0, target <= 1 else { throw TrainError("threshold: the target must be in (0, 1], got \(target)") }
    guard scores.count == labels.count, !scores.isEmpty else { throw TrainError("threshold: no scored rows") }
    let positives = labels.filter { $0 == 1 }.count
    guard positives > 0 else { throw TrainError("threshold: the labels have no positive rows") }
    // Walk the distinct scores from the highest down: each is a threshold admitting more rows.
    let order = scores.indices.sorted { scores[$0] > scores[$1] }
    var tp = 0, fp = 0, i = 0
    var best: Double?, bestSeen = 0.0
    while i < order.count {
        let t = scores[order[i]]
        while i < order.count && scores[order[i]] == t {
            if labels[order[i]] == 1 { tp += 1 } else { fp += 1 }
            i += 1
        }
        let p = Double(tp) / Double(tp + fp), r = Double(tp) / Double(positives)
        if let precision {
            bestSeen = max(bestSeen, p)
            if p >= precision { best = t }          // keep lowering while precision holds
        } else if r >= target {
            return t                                // the first (highest) threshold reaching the recall
        }
    }
    if let best { return best }
    if precision != nil {
        throw TrainError("threshold: no threshold reaches precision \(target) on these \(scores.count) rows (the best is \(shortNumber(bestSeen)))")
    }
    throw TrainError("threshold: no threshold reaches recall \(target)")
}
