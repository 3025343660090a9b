import Foundation
import Serve
import Train

/// Loads registry artifacts for `mlw serve`: MLW model files, and dense MLPs in safetensors
/// (`denseModel(safetensors:)`, DenseFile.swift), both served through their compiled graph.
public struct MLWModelLoader: ModelLoader {
    public init() {}
    public func load(artifactPath: String, name: String, version: Int) throws -> ServableModel {
        let head = (FileHandle(forReadingAtPath: artifactPath)?.readData(ofLength: 8)).map { Array($0) } ?? []
        if head == ModelFile.magic {
            return try GraphServable(try loadModel(artifactPath), name: name, version: version)
        }
        // Their outputs were never treated as logits (a final softmax is in the file when wanted).
        return try GraphServable(try denseModel(safetensors: artifactPath), name: name, version: version, outputsAreLogits: false)
    }
}
