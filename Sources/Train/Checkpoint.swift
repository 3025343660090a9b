import Foundation
import FileIO
import Graph
import Tensor

/// Everything `train` needs to carry on from the end of an epoch as if it had never stopped:
/// the training graph's parameters (batch-norm buffers included), the optimizer's state,
/// the epoch and step counters (which are the random state: shuffles and dropout are
/// counter-based functions of (seed, epoch) and (seed, step)), the history and the early
/// stopping state.
///
/// Stored as one safetensors file: tensors "param/<name>", "best/<name>" and
/// "opt/<slot>/<name>", and the scalars as JSON under the metadata key "mlw-checkpoint".
public struct TrainCheckpoint {
    public var params: [String: Tensor]
    public var best: (score: Double, params: [String: Tensor])?
    public var sinceBest: Int
    public var epochsDone: Int
    public var globalStep: Int
    public var seed: UInt64
    public var history: [EpochRecord]
    public var optimizer: OptimizerState

    struct Meta: Codable {
        var format = "mlw-checkpoint"
        var version = 1
        var epochsDone: Int
        var globalStep: Int
        var seed: String
        var sinceBest: Int
        var bestScore: Double?
        var optimizerKind: String
        var optimizerScalars: [String: Double]
        var history: [Epoch]
    }
    struct Epoch: Codable {
        var epoch: Int; var loss: Double; var accuracy: Double?; var valLoss: Double?; var valAccuracy: Double?
        var seconds: Double; var samplesPerSecond: Double
    }

    public func encode() throws -> [UInt8] {
        var tensors: [(String, Tensor)] = params.keys.sorted().map { ("param/" + $0, params[$0]!) }
        if let best { tensors += best.params.keys.sorted().map { ("best/" + $0, best.params[$0]!) } }
        for (slot, byName) in optimizer.slots.sorted(by: { $0.key < $1.key }) {
            for (name, v) in byName.sorted(by: { $0.key < $1.key }) { tensors.append(("opt/\(slot)/\(name)", try Tensor(v))) }
        }
        let meta = Meta(epochsDone: epochsDone, globalStep: globalStep, seed: String(seed), sinceBest: sinceBest, bestScore: best?.score,
                        optimizerKind: optimizer.kind, optimizerScalars: optimizer.scalars,
                        history: history.map { Epoch(epoch: $0.epoch, loss: $0.loss, accuracy: $0.accuracy, valLoss: $0.valLoss,
                                                     valAccuracy: $0.valAccuracy, seconds: $0.seconds, samplesPerSecond: $0.samplesPerSecond) })
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        return try Safetensors.encode(tensors, metadata: ["mlw-checkpoint": String(decoding: try enc.encode(meta), as: UTF8.self)])
    }

    public static func decode(_ bytes: [UInt8], path: String) throws -> TrainCheckpoint {
        func fail(_ why: String) -> TrainError { TrainError("resume: '\(path)' \(why)") }
        let (tensors, metadata): ([(String, Tensor)], [String: String])
        do { (tensors, metadata) = try Safetensors.decode(bytes) } catch { throw fail("is not a checkpoint (\(error))") }
        guard let json = metadata["mlw-checkpoint"] else { throw fail("is a safetensors file but not an MLW checkpoint") }
        let meta: Meta
        do { meta = try JSONDecoder().decode(Meta.self, from: Data(json.utf8)) } catch { throw fail("has a bad checkpoint header (\(error))") }
        guard meta.format == "mlw-checkpoint", meta.version == 1 else { throw fail("has checkpoint version \(meta.version); this mlw reads 1") }
        guard let seed = UInt64(meta.seed), meta.epochsDone >= 0, meta.globalStep >= 0, meta.sinceBest >= 0 else { throw fail("has bad counters") }
        var params: [String: Tensor] = [:], best: [String: Tensor] = [:], slots: [String: [String: [Float]]] = [:]
        for (key, t) in tensors {
            if key.hasPrefix("param/") { params[String(key.dropFirst(6))] = t }
            else if key.hasPrefix("best/") { best[String(key.dropFirst(5))] = t }
            else if key.hasPrefix("opt/"), let slash = key.dropFirst(4).firstIndex(of: "/") {
                slots[String(key[key.index(key.startIndex, offsetBy: 4)..<slash]), default: [:]][String(key[key.index(after: slash)...])] = t.astype(.float32).toFloats()
            } else { throw fail("has an unknown tensor '\(key)'") }
        }
        return TrainCheckpoint(params: params, best: meta.bestScore.map { ($0, best) }, sinceBest: meta.sinceBest, epochsDone: meta.epochsDone,
                               globalStep: meta.globalStep, seed: seed,
                               history: meta.history.map { EpochRecord(epoch: $0.epoch, loss: $0.loss, accuracy: $0.accuracy, valLoss: $0.valLoss,
                                                                       valAccuracy: $0.valAccuracy, seconds: $0.seconds, samplesPerSecond: $0.samplesPerSecond) },
                               optimizer: OptimizerState(kind: meta.optimizerKind, scalars: meta.optimizerScalars, slots: slots))
    }

    public func save(_ path: String) throws {
        do { try SafeWrite.write(try encode(), to: path) } catch let e as TrainError { throw e } catch {
            throw TrainError("train: cannot write checkpoint: \(error)")
        }
    }

    public static func load(_ path: String) throws -> TrainCheckpoint {
        var info = stat()
        guard stat(path, &info) == 0 else { throw TrainError("resume: no checkpoint file '\(path)'") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw TrainError("resume: '\(path)' is not a regular file") }
        guard let d = FileManager.default.contents(atPath: path) else { throw TrainError("resume: cannot read '\(path)'") }
        return try decode(Array(d), path: path)
    }
}

/// Where and how often `train` saves checkpoints (rank 0 only), at the end of every
/// `every`-th epoch and after the last.
public struct CheckpointPlan {
    public var path: String
    public var every: Int
    public init(path: String, every: Int) { self.path = path; self.every = every }
}

/// An optimizer's state: its kind, its scalar counters and its per-parameter buffers.
public struct OptimizerState {
    public var kind: String
    public var scalars: [String: Double]
    public var slots: [String: [String: [Float]]]
}

/// Reads and restores the state of the built-in optimizers (the fields are internal to Train).
enum OptimizerCheckpoint {
    static func capture(_ opt: Optimizer) throws -> OptimizerState {
        switch opt {
        case let o as SGD: return OptimizerState(kind: "sgd", scalars: [:], slots: ["momentum": o.state.slots])
        case let o as Adam:
            return OptimizerState(kind: "adam", scalars: ["t": Double(o.t), "beta1_power": o.beta1Power, "beta2_power": o.beta2Power,
                                                          "power_beta1": o.powerBetas.0, "power_beta2": o.powerBetas.1],
                                  slots: ["m": o.m.slots, "v": o.v.slots])
        case let o as RMSprop: return OptimizerState(kind: "rmsprop", scalars: [:], slots: ["s": o.s.slots])
        default: throw TrainError("train: checkpoints support the sgd, adam, adamw and rmsprop optimizers, not \(type(of: opt))")
        }
    }

    static func restore(_ s: OptimizerState, into opt: inout Optimizer) throws {
        func scalar(_ k: String) throws -> Double {
            guard let v = s.scalars[k], v.isFinite else { throw TrainError("resume: the checkpoint's optimizer state has no '\(k)'") }
            return v
        }
        switch opt {
        case var o as SGD where s.kind == "sgd": o.state.slots = s.slots["momentum"] ?? [:]; opt = o
        case var o as Adam where s.kind == "adam":
            let t = try scalar("t")
            guard t >= 0, t < 1e15 else { throw TrainError("resume: the checkpoint's optimizer step \(t) is out of range") }
            o.t = Int(t); o.beta1Power = try scalar("beta1_power"); o.beta2Power = try scalar("beta2_power")
            o.powerBetas = (try scalar("power_beta1"), try scalar("power_beta2"))
            o.m.slots = s.slots["m"] ?? [:]; o.v.slots = s.slots["v"] ?? [:]
            opt = o
        case var o as RMSprop where s.kind == "rmsprop": o.s.slots = s.slots["s"] ?? [:]; opt = o
        default: throw TrainError("resume: the checkpoint was written with optimizer '\(s.kind)', this run uses \(type(of: opt))")
        }
    }
}
