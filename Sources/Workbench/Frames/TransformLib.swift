import Frames
import Foundation
import Lang

/// Transform steps (unfitted values) and `fit_transforms`, which learns their numbers on
/// training rows only and returns a chain that replays on any data (and on raw records
/// in the server).
let transformFunctions: [NativeFunction] = [
    NativeFunction("impute", [Param("strategy", .string, .string("mean")), Param("columns", .optional(.list), .nil),
                              Param("value", .any, .nil)],
                   doc: "Fill missing cells: \"mean\", \"median\", \"most_frequent\", or \"constant\" with value.",
                   example: "impute(\"median\")") { a in
        let name = try a.string("strategy")
        let value = a.isNil("value") ? nil : try valueToData(a["value"], field: "value")
        guard let s = ImputeStrategy(name: name, value: value) else {
            throw a.invalid("strategy", "must be mean, median, most_frequent, or constant with a value")
        }
        let cols = try optionalColumns(a)
        return .native(TransformValue(.impute(s, columns: cols), "impute(\(name)\(columnsText(cols)))"))
    },
    NativeFunction("standardize", [Param("columns", .optional(.list), .nil)],
                   doc: "Scale numeric features to mean 0 and standard deviation 1 (fitted on training rows).",
                   example: "standardize()") { a in
        let cols = try optionalColumns(a)
        return .native(TransformValue(.standardize(columns: cols), "standardize(\(columnsText(cols, first: true)))"))
    },
    NativeFunction("minmax", [Param("columns", .optional(.list), .nil)],
                   doc: "Scale numeric features to [0, 1] using the training min and max.", example: "minmax()") { a in
        let cols = try optionalColumns(a)
        return .native(TransformValue(.minMaxScale(columns: cols), "minmax(\(columnsText(cols, first: true)))"))
    },
    NativeFunction("one_hot_encode", [Param("columns", .optional(.list), .nil)],
                   doc: "Replace text/category features by one 0/1 column per training level.", example: "one_hot_encode()") { a in
        let cols = try optionalColumns(a)
        return .native(TransformValue(.oneHot(columns: cols), "one_hot_encode(\(columnsText(cols, first: true)))"))
    },
    NativeFunction("label_encode", [Param("columns", .optional(.list), .nil)],
                   doc: "Replace text/category columns (default: the label) by integer codes of the training levels.",
                   example: "label_encode()") { a in
        let cols = try optionalColumns(a)
        return .native(TransformValue(.labelEncode(columns: cols), "label_encode(\(columnsText(cols, first: true)))"))
    },
    NativeFunction("standardize_target", [],
                   doc: "Regression labels as (y - mean) / std (fitted on training rows). A model trained on them predicts in the label's units: predict, evaluate and the server invert it.",
                   example: "standardize_target()") { _ in
        .native(TransformValue(.standardizeTarget(), "standardize_target()"))
    },
    NativeFunction("log_target", [],
                   doc: "Regression labels as log(1 + y) (values above -1); predictions are mapped back with exp(v) - 1.",
                   example: "log_target()") { _ in
        .native(TransformValue(.logTarget(), "log_target()"))
    },
    NativeFunction("fit_transforms", [Param("data", .native("dataset")), Param("steps", .list)],
                   doc: "Fit transform steps on training data; the result is called on any dataset: prep(test).",
                   example: "fit_transforms(read_csv(\"Scripts/data/iris.csv\", label: \"species\"), [standardize()]).features",
                   result: "[\"sepal_length\", \"sepal_width\", \"petal_length\", \"petal_width\"]") { a in
        let steps: [Transform] = try a.list("steps").map { v in
            guard case .native(let n) = v, let t = n as? TransformValue else {
                throw a.invalid("steps", "must be a list of transforms (impute, standardize, ...), found \(v.typeName)")
            }
            return t.transform
        }
        return .native(PipelineValue(try fitTransforms(try ds(a), steps)))
    },
]

func optionalColumns(_ a: Args) throws -> [String]? {
    a.isNil("columns") ? nil : try stringList(a, "columns")
}

func columnsText(_ cols: [String]?, first: Bool = false) -> String {
    guard let cols else { return "" }
    return (first ? "" : ", ") + "columns: " + cols.joined(separator: ", ")
}
