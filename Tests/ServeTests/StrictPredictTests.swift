import Foundation
import Frames
import XCTest
@testable import Serve

/// Issue 15, "Serving input must be strict": `/predict` checks each record against the
/// fields the fitted transforms take, answers 400 naming every problem, and answers by
/// task. The policies (impute missing fields, an "other" bucket for unseen categories) are
/// per model.
final class StrictPredictTests: XCTestCase {
    /// size (number), color (category: blue/green/red, one-hot), age (number, imputed with
    /// the mean); label price. Features: size, color=..., age (5 columns).
    static func pipeline() throws -> FittedPipeline {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-strict-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("houses.csv")
        try "size,color,age,price\n1.0,red,30,10\n2.0,green,,20\n3.0,blue,50,30\n4.0,red,40,40\n".write(to: csv, atomically: true, encoding: .utf8)
        let ds = try readCSV(csv.path, options: CSVOptions(label: "price"))
        return try fitTransforms(ds, [.impute(.mean, columns: ["age"]), .standardize(), .oneHot()])
    }

    /// A linear regression over the 5 features (weights 1...5, bias 0.5).
    static func linear(name: String = "houses", transforms: FittedPipeline) throws -> DenseModel {
        let w = try Tensor([1, 2, 3, 4, 5], shape: [5, 1])
        let b = try Tensor([0.5], shape: [1])
        return try DenseModel(name: name, version: 1, layers: [.init(weight: w, bias: b, activation: .none)], transforms: transforms)
    }

    func error(_ r: [String: Any]) -> String { r["error"] as? String ?? "\(r)" }

    func testEveryProblemOfARecordIsNamedInOne400() async throws {
        let p = try Self.pipeline()
        let app = try Fixtures.server(models: [try Self.linear(transforms: p)]).application()
        try await app.test(.router) { c in
            let (s, r, _) = try await c.call(.post, "/predict", #"{"sise": 1, "size": "big", "colour": "red", "color": "purple"}"#)
            XCTAssertEqual(s, 400)
            XCTAssertEqual(self.error(r), "unknown field 'sise' (did you mean 'size'?); unknown field 'colour' (did you mean 'color'?); "
                + "field 'size' must be a number, got the string 'big'; field 'color' has the unseen category 'purple' (known: blue, green, red); "
                + "missing field 'age'; expected fields: size, color, age")
            // Wrong types: a boolean, a list, a number where a category is expected is fine
            // only when it is a known level.
            let (s2, r2, _) = try await c.call(.post, "/predict", #"{"size": true, "color": 3, "age": [1]}"#)
            XCTAssertEqual(s2, 400)
            XCTAssertEqual(self.error(r2), "field 'size' must be a number, got a boolean; field 'color' has the unseen category '3' (known: blue, green, red); "
                + "field 'age' must be a number, got a list; expected fields: size, color, age")
            // A list names the record; the label (a training column) is accepted and ignored.
            let good = #"{"size": 2.5, "color": "red", "age": 35, "price": 99}"#
            let (s3, r3, _) = try await c.call(.post, "/predict", "[\(good), {\"size\": 1, \"color\": \"red\"}]")
            XCTAssertEqual(s3, 400)
            XCTAssertEqual(self.error(r3), "record 1: missing field 'age'; expected fields: size, color, age")
            let (s4, r4, _) = try await c.call(.post, "/predict", good)
            XCTAssertEqual(s4, 200, "\(r4)")
            // null is missing too.
            let (s5, r5, _) = try await c.call(.post, "/predict", #"{"size": 2.5, "color": null, "age": 35}"#)
            XCTAssertEqual(s5, 400)
            XCTAssertEqual(self.error(r5), "missing field 'color'; expected fields: size, color, age")
        }
    }

    func testRegressionAnswersThePredictedValue() async throws {
        let p = try Self.pipeline()
        let model = try Self.linear(transforms: p)
        let app = try Fixtures.server(models: [model]).application()
        try await app.test(.router) { c in
            let rec = #"{"size": 2.5, "color": "green", "age": 35}"#
            let (s, r, _) = try await c.call(.post, "/predict", rec)
            XCTAssertEqual(s, 200, "\(r)")
            XCTAssertEqual(r["task"] as? String, "regression")
            let answer = try XCTUnwrap((r["predictions"] as? [[String: Any]])?.first)
            XCTAssertEqual(Set(answer.keys), ["prediction"])
            let x = try p.apply(toJSONRecord: Data(rec.utf8))
            assertClose([(answer["prediction"] as? NSNumber)?.floatValue ?? .nan], try Fixtures.predictDirect(model, [x]))
        }
    }

    func testPoliciesImputeMissingFieldsAndBucketUnseenCategories() async throws {
        let p = try Self.pipeline()
        let base = try Self.linear(transforms: p)
        let lenient = Wrapped(base, policy: ServePolicy(allowMissing: true, unseen: "other"))
        let app = try Fixtures.server(models: [lenient]).application()
        try await app.test(.router) { c in
            // age missing: imputed with the training mean; color unseen: all-zero one-hot.
            let (s, r, _) = try await c.call(.post, "/predict", #"{"size": 2.5, "color": "purple"}"#)
            XCTAssertEqual(s, 200, "\(r)")
            let got = (((r["predictions"] as? [[String: Any]])?.first)?["prediction"] as? NSNumber)?.floatValue ?? .nan
            let x = try p.apply(toRecord: ["size": .double(2.5)])
            XCTAssertEqual(x.count, 5)
            assertClose([got], try Fixtures.predictDirect(base, [x]))
            // size has no fitted imputation: still an error, saying why.
            let (s2, r2, _) = try await c.call(.post, "/predict", #"{"color": "red", "age": 3}"#)
            XCTAssertEqual(s2, 400)
            XCTAssertEqual(self.error(r2), "missing field 'size' (the transforms cannot impute it); expected fields: size, color, age")
            // Unknown fields stay errors under both policies.
            let (s3, r3, _) = try await c.call(.post, "/predict", #"{"size": 1, "color": "red", "age": 3, "extra": 1}"#)
            XCTAssertEqual(s3, 400)
            XCTAssertEqual(self.error(r3), "unknown field 'extra'; expected fields: size, color, age")
        }
    }

    func testBinaryAnswersThePositiveClassByThreshold() async throws {
        let model = try Fixtures.iris()   // 3 softmax outputs; answered as binary over the first two below
        let two = Wrapped(try DenseModel.random(name: "yesno", version: 1, sizes: [4, 2], transforms: model.transforms),
                          task: ServeTask(kind: "binary", classes: ["no", "yes"], threshold: 0.99, stored: true))
        let app = try Fixtures.server(models: [two]).application()
        try await app.test(.router) { c in
            let rec = #"{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}"#
            let (s, r, _) = try await c.call(.post, "/predict", rec)
            XCTAssertEqual(s, 200, "\(r)")
            XCTAssertEqual(r["task"] as? String, "binary")
            let a = try XCTUnwrap((r["predictions"] as? [[String: Any]])?.first)
            let prob = try XCTUnwrap((a["probability"] as? NSNumber)?.doubleValue)
            let x = try two.transforms!.apply(toJSONRecord: Data(rec.utf8))
            assertClose([Float(prob)], [try Fixtures.predictDirect(two, [x])[1]])
            let cls = prob >= 0.99 ? 1 : 0
            XCTAssertEqual(a["class"] as? Int, cls)
            XCTAssertEqual(a["label"] as? String, ["no", "yes"][cls])
        }
    }

    func testSchemaFollowsDropsRenamesAndSelects() throws {
        let ds = try readCSV(Fixtures.root.appendingPathComponent("Scripts/data/iris.csv").path, options: CSVOptions(label: "species"))
        let p = try fitTransforms(ds, [.drop(["sepal_width"]), .rename(["petal_width": "pw"]), .standardize()])
        let schema = try XCTUnwrap(RecordSchema(p))
        XCTAssertEqual(schema.fields.map(\.name), ["sepal_length", "petal_length", "petal_width"])
        XCTAssertEqual(schema.ignored, ["sepal_width", "species"])
        // A dropped training column is accepted and ignored; an unknown one is not.
        XCTAssertEqual(schema.problems(in: [("sepal_length", .int(1)), ("petal_length", .int(1)), ("petal_width", .int(1)), ("sepal_width", .int(1))], policy: .strict), [])
        XCTAssertEqual(schema.problems(in: [("sepal_length", .int(1)), ("petal_length", .int(1)), ("pw", .int(1))], policy: .strict),
                       ["unknown field 'pw'", "missing field 'petal_width'"])
    }
}

/// A served model with its own task and policy around a DenseModel.
final class Wrapped: ServableModel, @unchecked Sendable {
    let base: DenseModel
    let task: ServeTask
    let policy: ServePolicy
    init(_ base: DenseModel, task: ServeTask? = nil, policy: ServePolicy = .strict) {
        self.base = base
        self.task = task ?? ServeTask.inferred(width: base.outputs[0].shape.last ?? 1, classes: base.transforms?.labelLevels)
        self.policy = policy
    }
    var name: String { base.name }
    var version: Int { base.version }
    var inputs: [TensorSpec] { base.inputs }
    var outputs: [TensorSpec] { base.outputs }
    var transforms: FittedPipeline? { base.transforms }
    func predict(_ batch: Tensor) throws -> Tensor { try base.predict(batch) }
}
