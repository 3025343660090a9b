import Frames
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import Serve

/// Models and helpers shared by the Serve tests.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Iris transforms (standardize; no imputation, so a missing field is an error) fitted on the whole file: 4 features, 3 labels.
    static func irisPipeline() throws -> FittedPipeline {
        let ds = try readCSV(root.appendingPathComponent("Scripts/data/iris.csv").path, options: CSVOptions(label: "species"))
        return try fitTransforms(ds, [.standardize()])
    }

    static func iris(version: Int = 1, seed: UInt64 = 1) throws -> DenseModel {
        try DenseModel.random(name: "iris", version: version, sizes: [4, 16, 3], seed: seed, transforms: try irisPipeline())
    }

    static func digits(version: Int = 1, seed: UInt64 = 7) throws -> DenseModel {
        try DenseModel.random(name: "digits", version: version, sizes: [64, 128, 64, 10], seed: seed)
    }

    static func server(_ config: ServeConfig = ServeConfig(), models: [ServableModel]) throws -> InferenceServer {
        let s = InferenceServer(config: config)
        for m in models { try s.add(m) }
        return s
    }

    static func v2Body(_ rows: [[Float]], id: String? = nil, name: String = "input", datatype: String = "FP32") -> String {
        let data = rows.flatMap { $0 }.map { "\($0)" }.joined(separator: ",")
        let idPart = id.map { "\"id\":\"\($0)\"," } ?? ""
        return "{\(idPart)\"inputs\":[{\"name\":\"\(name)\",\"shape\":[\(rows.count),\(rows.first?.count ?? 0)],\"datatype\":\"\(datatype)\",\"data\":[\(data)]}]}"
    }

    static func predictDirect(_ m: ServableModel, _ rows: [[Float]]) throws -> [Float] {
        try m.predict(try Tensor(rows.flatMap { $0 }, shape: [rows.count, rows[0].count])).toFloats()
    }

    static func json(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView), options: [.fragmentsAllowed])) as? [String: Any] ?? [:]
    }
}

extension TestClientProtocol {
    /// Sends a request and returns status and decoded JSON body.
    func call(_ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil,
              headers: HTTPFields = [:]) async throws -> (Int, [String: Any], ByteBuffer) {
        try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { r in
            (Int(r.status.code), Fixtures.json(r.body), r.body)
        }
    }
}

func assertClose(_ a: [Float], _ b: [Float], tol: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) where abs(x - y) > tol * max(1, abs(y)) {
        XCTFail("\(x) != \(y)", file: file, line: line); return
    }
}

func floats(_ v: Any?) -> [Float] { ((v as? [Any]) ?? []).compactMap { ($0 as? NSNumber)?.floatValue } }
