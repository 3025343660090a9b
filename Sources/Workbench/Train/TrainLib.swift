import Foundation
import Lang
import Tensor
import Train

/// The training library: layers, models (sequential and functional), optimizers.
/// The train loop, evaluation and model files are in TrainLoopLib.swift.
let trainLibrary = Library("train", doc: "Models: layers, sequential/functional graphs, optimizers, train, evaluate, predict, save/load.",
                           layerFunctions + modelFunctions + optimizerFunctions + trainLoopFunctions)

func layer(_ l: Layer, _ text: String) -> Value { .native(LayerValue(l, text)) }

func initializerArg(_ a: Args) throws -> Initializer {
    switch try a.string("init") {
    case "he": return .he
    case "glorot": return .glorot
    case "zeros": return .zeros
    default: throw a.invalid("init", "must be \"he\", \"glorot\" or \"zeros\"")
    }
}

func positive(_ a: Args, _ name: String) throws -> Int {
    let n = try a.int(name)
    guard n >= 1 else { throw a.invalid(name, "must be at least 1, got \(n)") }
    // Sizes and counts past 2^31 only ever mean a runaway loop or allocation.
    guard n <= Limits.maxCount else { throw a.invalid(name, "\(n) is more than the limit of \(Limits.maxCount)") }
    return n
}

let layerFunctions: [NativeFunction] = [
    NativeFunction("dense", [Param("inputs", .int), Param("outputs", .int), Param("bias", .bool, .bool(true)), Param("init", .string, .string("he"))],
                   doc: "Fully connected layer x @ W + b (W [inputs, outputs], He or Glorot initialised from the model seed).",
                   example: "dense(64, 128)", result: "<layer dense(64, 128)>") { a in
        layer(Train.dense(try positive(a, "inputs"), try positive(a, "outputs"), bias: try a.bool("bias"), initializer: try initializerArg(a)),
              "dense(\(try a.int("inputs")), \(try a.int("outputs")))")
    },
    NativeFunction("conv2d", [Param("in_channels", .int), Param("out_channels", .int), Param("kernel", .int),
                              Param("stride", .int, .int(1)), Param("padding", .int, .int(0)), Param("init", .string, .string("he"))],
                   doc: "2-D convolution layer over NCHW input (square kernel).", example: "conv2d(1, 8, 3, padding: 1)",
                   result: "<layer conv2d(1, 8, 3)>") { a in
        layer(Train.conv2d(try positive(a, "in_channels"), try positive(a, "out_channels"), kernel: try positive(a, "kernel"),
                           stride: try positive(a, "stride"), padding: try a.int("padding"), initializer: try initializerArg(a)),
              "conv2d(\(try a.int("in_channels")), \(try a.int("out_channels")), \(try a.int("kernel")))")
    },
    NativeFunction("max_pool", [Param("kernel", .int), Param("stride", .optional(.int), .nil), Param("padding", .int, .int(0))],
                   doc: "2-D max pooling layer (stride defaults to the kernel).", example: "max_pool(2)", result: "<layer max_pool(2)>") { a in
        layer(Train.maxPool(try positive(a, "kernel"), stride: a.isNil("stride") ? nil : try positive(a, "stride"), padding: try a.int("padding")),
              "max_pool(\(try a.int("kernel")))")
    },
    NativeFunction("avg_pool", [Param("kernel", .int), Param("stride", .optional(.int), .nil), Param("padding", .int, .int(0))],
                   doc: "2-D average pooling layer.", example: "avg_pool(2)", result: "<layer avg_pool(2)>") { a in
        layer(Train.avgPool(try positive(a, "kernel"), stride: a.isNil("stride") ? nil : try positive(a, "stride"), padding: try a.int("padding")),
              "avg_pool(\(try a.int("kernel")))")
    },
    NativeFunction("flatten", [], doc: "Layer flattening all but the batch axis.", example: "flatten()", result: "<layer flatten()>") { _ in
        layer(Train.flatten(), "flatten()")
    },
    NativeFunction("reshape_layer", [Param("shape", .list)], doc: "Layer reshaping the features (the batch axis is kept).",
                   example: "reshape_layer([1, 8, 8])", result: "<layer reshape([1, 8, 8])>") { a in
        let s = try shapeArg(a, "shape")
        return layer(Train.reshapeLayer(s), "reshape(\(s))")
    },
    NativeFunction("dropout", [Param("p", .number)], doc: "Dropout layer (training only; seeded).", example: "dropout(0.1)", result: "<layer dropout(0.1)>") { a in
        let p = try a.double("p")
        guard p >= 0, p < 1 else { throw a.invalid("p", "must be in [0, 1)") }
        return layer(Train.dropout(p), "dropout(\(p))")
    },
    NativeFunction("relu", [], doc: "ReLU activation layer.", example: "relu()", result: "<layer relu()>") { _ in layer(Train.relu(), "relu()") },
    NativeFunction("leaky_relu", [Param("slope", .number, .float(0.01))], doc: "Leaky ReLU activation layer.", example: "leaky_relu()",
                   result: "<layer leaky_relu(0.01)>") { a in layer(Train.leakyRelu(try a.double("slope")), "leaky_relu(\(try a.double("slope")))") },
    NativeFunction("gelu", [], doc: "GELU activation layer.", example: "gelu()", result: "<layer gelu()>") { _ in layer(Train.gelu(), "gelu()") },
    NativeFunction("tanh", [], doc: "tanh activation layer.", example: "tanh()", result: "<layer tanh()>") { _ in layer(Train.tanh(), "tanh()") },
    NativeFunction("sigmoid", [], doc: "Sigmoid activation layer.", example: "sigmoid()", result: "<layer sigmoid()>") { _ in layer(Train.sigmoid(), "sigmoid()") },
    NativeFunction("softmax", [Param("axis", .int, .int(-1))], doc: "Softmax activation layer.", example: "softmax()", result: "<layer softmax()>") { a in
        layer(Train.softmax(axis: try a.int("axis")), "softmax()")
    },
    NativeFunction("batch_norm", [Param("features", .int), Param("momentum", .number, .float(0.1)), Param("eps", .number, .float(1e-5)), Param("sync", .bool, .bool(false))],
                   doc: "Batch normalization layer (running statistics in eval mode). sync: true takes the batch statistics over every rank's rows under mpirun (synchronised batch norm).", example: "batch_norm(64)", result: "<layer batch_norm(64)>") { a in
        layer(Train.batchNorm(try positive(a, "features"), momentum: try a.double("momentum"), eps: try a.double("eps"), sync: try a.bool("sync")), "batch_norm(\(try a.int("features")))")
    },
    NativeFunction("layer_norm", [Param("features", .int), Param("eps", .number, .float(1e-5))], doc: "Layer normalization layer.",
                   example: "layer_norm(64)", result: "<layer layer_norm(64)>") { a in
        layer(Train.layerNorm(try positive(a, "features"), eps: try a.double("eps")), "layer_norm(\(try a.int("features")))")
    },
    NativeFunction("embedding", [Param("vocab", .int), Param("dim", .int)], doc: "Embedding layer: integer ids to vectors.",
                   example: "embedding(1000, 16)", result: "<layer embedding(1000, 16)>") { a in
        layer(Train.embedding(try positive(a, "vocab"), try positive(a, "dim")), "embedding(\(try a.int("vocab")), \(try a.int("dim")))")
    },
]

let modelFunctions: [NativeFunction] = [
    NativeFunction("sequential", [Param("layers", .list), Param("input_shape", .optional(.list), .nil), Param("seed", .int, .int(0))],
                   doc: "A model applying layers in order; weights are drawn from seed. The input shape comes from a first dense layer or input_shape.",
                   example: "sequential([dense(64, 128), relu(), dense(128, 10)]).params", result: "9610") { a in
        let layers: [Layer] = try a.list("layers").map { v in
            guard case .native(let n as LayerValue) = v else { throw a.invalid("layers", "must be a list of layers, found \(v.typeName)") }
            return n.layer
        }
        guard !layers.isEmpty else { throw a.invalid("layers", "must not be empty") }
        return .native(ModelValue(try Train.sequential(layers, inputShape: a.isNil("input_shape") ? nil : try shapeArg(a, "input_shape"),
                                                       seed: UInt64(bitPattern: Int64(try a.int("seed"))))))
    },
    NativeFunction("input", [Param("shape", .list), Param("seed", .int, .int(0))],
                   doc: "A symbolic input (features, no batch axis) for building a graph functionally: call layers on it, add branches with +, finish with model(...).",
                   example: "input([64])", result: "<node x: [batch, 64]>") { a in
        let box = BuilderBox(seed: UInt64(bitPattern: Int64(try a.int("seed"))))
        return .native(NodeValue(box, try box.b.input(shape: try shapeArg(a, "shape"))))
    },
    NativeFunction("model", [Param("inputs", .native("node")), Param("outputs", .native("node"))],
                   doc: "The model from a functional graph: its input node and output node.",
                   example: "let x = input([4]); model(x, dense(4, 2)(x)).params", result: "10") { a in
        let x = try a.native("inputs", as: NodeValue.self, "node"), y = try a.native("outputs", as: NodeValue.self, "node")
        guard x.builder === y.builder else { throw a.invalid("outputs", "comes from a different graph than the input") }
        return .native(ModelValue(try y.builder.b.model(outputs: [y.id])))
    },
    NativeFunction("summary", [Param("model", .native("model"))], doc: "Print each layer's op, output shape and parameter count.",
                   example: "summary(sequential([dense(4, 2)]))") { a in
        a.interpreter.output(summary(try a.native("model", as: ModelValue.self, "model").model) + "\n")
        return .nil
    },
    NativeFunction("params", [Param("model", .native("model"))], doc: "Number of trainable parameters.",
                   example: "params(sequential([dense(4, 2)]))", result: "10") { a in
        .int(Train.params(try a.native("model", as: ModelValue.self, "model").model))
    },
]

let optimizerFunctions: [NativeFunction] = [
    NativeFunction("sgd", [Param("lr", .number, .float(0.01)), Param("momentum", .number, .float(0)), Param("nesterov", .bool, .bool(false)),
                           Param("weight_decay", .number, .float(0))],
                   doc: "Stochastic gradient descent with optional (Nesterov) momentum and weight decay.", example: "sgd(lr: 0.1, momentum: 0.9)",
                   result: "<optimizer sgd(lr: 0.1, momentum: 0.9)>") { a in
        .native(OptimizerValue(SGD(lr: try a.double("lr"), momentum: try a.double("momentum"), nesterov: try a.bool("nesterov"),
                                   weightDecay: try a.double("weight_decay")), "sgd(lr: \(try a.double("lr")), momentum: \(try a.double("momentum")))"))
    },
    NativeFunction("adam", [Param("lr", .number, .float(0.001)), Param("beta1", .number, .float(0.9)), Param("beta2", .number, .float(0.999)),
                            Param("eps", .number, .float(1e-8)), Param("weight_decay", .number, .float(0))],
                   doc: "Adam.", example: "adam(lr: 0.001)", result: "<optimizer adam(lr: 0.001)>") { a in
        .native(OptimizerValue(Adam(lr: try a.double("lr"), beta1: try a.double("beta1"), beta2: try a.double("beta2"), eps: try a.double("eps"),
                                    weightDecay: try a.double("weight_decay")), "adam(lr: \(try a.double("lr")))"))
    },
    NativeFunction("adamw", [Param("lr", .number, .float(0.001)), Param("weight_decay", .number, .float(0.01))],
                   doc: "Adam with decoupled weight decay.", example: "adamw(lr: 0.001)", result: "<optimizer adamw(lr: 0.001, weight_decay: 0.01)>") { a in
        .native(OptimizerValue(adamW(lr: try a.double("lr"), weightDecay: try a.double("weight_decay")),
                               "adamw(lr: \(try a.double("lr")), weight_decay: \(try a.double("weight_decay")))"))
    },
    NativeFunction("rmsprop", [Param("lr", .number, .float(0.01)), Param("alpha", .number, .float(0.99)), Param("eps", .number, .float(1e-8)),
                               Param("weight_decay", .number, .float(0))],
                   doc: "RMSprop.", example: "rmsprop(lr: 0.01)", result: "<optimizer rmsprop(lr: 0.01)>") { a in
        .native(OptimizerValue(RMSprop(lr: try a.double("lr"), alpha: try a.double("alpha"), eps: try a.double("eps"),
                                       weightDecay: try a.double("weight_decay")), "rmsprop(lr: \(try a.double("lr")))"))
    },
]
