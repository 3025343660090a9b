import Foundation
import Recommend
import Serve
import Tensor
import Train

/// Loads registry artifacts for `mlw serve`: MLW model files, and dense MLPs in safetensors
/// (`denseModel(safetensors:)`, DenseFile.swift), both served through their compiled graph.
public struct MLWModelLoader: ModelLoader {
    public init() {}
    public func load(artifactPath: String, name: String, version: Int) throws -> ServableModel {
        let head = (FileHandle(forReadingAtPath: artifactPath)?.readData(ofLength: 8)).map { Array($0) } ?? []
        if head == ModelFile.magic {
            let model = try loadModel(artifactPath)
            if model.blobs[RecommenderMeta.blobName] != nil { return try RecommenderServable(model, name: name, version: version) }
            return try GraphServable(model, name: name, version: version)
        }
        // Their outputs were never treated as logits (a final softmax is in the file when wanted).
        return try GraphServable(try denseModel(safetensors: artifactPath), name: name, version: version, outputsAreLogits: false)
    }
}

extension MLWModelLoader {
    /// Whether the file at `path` is a model `load` serves: an MLW model file, or a
    /// safetensors file whose metadata says `mlw.kind = dense`. Either must then load (the
    /// error says why not); any other file is not a model (false), and the registry keeps
    /// it as a plain file artifact, which `mlw serve` refuses.
    public static func isModel(_ path: String) throws -> Bool {
        let head = (FileHandle(forReadingAtPath: path)?.readData(ofLength: 8)).map { Array($0) } ?? []
        if head == ModelFile.magic {
            _ = try loadModel(path)
            return true
        }
        guard let meta = try? Safetensors.load(path).metadata, meta["mlw.kind"] == "dense" else { return false }
        _ = try denseModel(safetensors: path)
        return true
    }
}
