/// Public factories for run records (the memberwise initialisers are internal), so other
/// modules' training loops (Compress's distillation) return the same `TrainRun` /
/// `EpochRecord` values as `train`.
extension EpochRecord {
    public static func make(epoch: Int, loss: Double, accuracy: Double?, valLoss: Double?, valAccuracy: Double?,
                            seconds: Double, samplesPerSecond: Double) -> EpochRecord {
        EpochRecord(epoch: epoch, loss: loss, accuracy: accuracy, valLoss: valLoss, valAccuracy: valAccuracy,
                    seconds: seconds, samplesPerSecond: samplesPerSecond)
    }
}

extension TrainRun {
    public static func make(model: Model, history: [EpochRecord], stoppedEarly: Bool = false, cancelled: Bool = false) -> TrainRun {
        TrainRun(model: model, history: history, stoppedEarly: stoppedEarly, cancelled: cancelled)
    }
}
