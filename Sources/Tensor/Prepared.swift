import CKernels

/// Layers prepared once for raw-pointer calls: checks, weight packing and argument setup
/// happen at preparation, so a call is one C call with no tensors made. The graph
/// executor's static programs (one arena per batch size) are built from these; each gives
/// the same bits as the corresponding Tensor function (`linear`, `qlinear`, `csrLinear`,
/// the unary activations), because it makes the same C call.
///
///     let layer = try PreparedLayer.linear(weight: w, bias: b, relu: true)
///     _ = layer.run(x, rows: 1, y)      // y = relu(x @ w + b), 0 on success
public final class PreparedLayer {
    /// Input features and output features per row.
    public let inFeatures: Int, outFeatures: Int
    private let body: (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Int32
    /// Tensors and boxes whose memory the body's pointers refer to.
    private let keep: [AnyObject]
    private let tensors: [Tensor]

    private init(_ inF: Int, _ outF: Int, tensors: [Tensor], keep: [AnyObject] = [],
                 _ body: @escaping (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Int32) {
        inFeatures = inF; outFeatures = outF; self.tensors = tensors; self.keep = keep; self.body = body
    }

    /// Runs the layer on `rows` contiguous rows of `x` into `y`; nonzero when a scratch
    /// buffer could not be allocated.
    @inline(__always)
    public func run(_ x: UnsafePointer<Float>, rows: Int, _ y: UnsafeMutablePointer<Float>) -> Int32 { body(x, rows, y) }

    static func ready(_ t: Tensor, _ d: DType) -> Bool { t.dtype == d && t.isContiguous }

    /// `Tensor.linear(x, weight: w, bias: b, activation:)` with W [in, out] float32.
    public static func linear(weight w: Tensor, bias: Tensor?, relu: Bool) throws -> PreparedLayer {
        guard w.rank == 2, ready(w, .float32), bias.map({ ready($0, .float32) && $0.count == w.shape[1] }) ?? true else {
            throw TensorError("prepare", "linear needs a contiguous float32 [in, out] weight and bias")
        }
        let (k, n) = (w.shape[0], w.shape[1])
        let wp = UnsafePointer(w.ptr(Float.self)), bp = bias.map { UnsafePointer($0.ptr(Float.self)) }
        let mode = bias == nil ? 0 : Int32(MLW_BIAS_PER_COL), act = relu ? Int32(MLW_ACT_RELU) : 0
        return PreparedLayer(k, n, tensors: [w] + (bias.map { [$0] } ?? [])) { x, rows, y in
            mlw_sgemm(rows, n, k, 1, x, k, 1, wp, n, 1, 0, y, n, bp, mode, act)
        }
    }

    /// `Tensor.qlinear` with its operands as the graph stores them.
    public static func qlinear(weight: Tensor, weightScale: Tensor, colSum: Tensor, bias: Tensor?,
                               actScale: Float?, actZero: Int, unsigned: Bool, relu: Bool) throws -> PreparedLayer {
        guard weight.rank == 2, ready(weight, .int8), ready(weightScale, .float32), ready(colSum, .int32),
              bias.map({ ready($0, .float32) }) ?? true else {
            throw TensorError("prepare", "qlinear needs contiguous int8 weights, float32 scales, int32 column sums")
        }
        let (k, n) = (weight.shape[0], weight.shape[1])
        guard weightScale.count == n || weightScale.count == 1, colSum.count == n, bias.map({ $0.count == n }) ?? true else {
            throw TensorError("prepare", "qlinear: scales, column sums or bias do not match \(n) outputs")
        }
        let packed = Tensor.packedInt8(weight)
        var args = Tensor.qlinearArgs(weight: weight, packed: packed, weightScale: weightScale, colSum: colSum, bias: bias,
                                      actScale: actScale, actZero: actZero, unsigned: unsigned, relu: relu)
        return PreparedLayer(k, n, tensors: [weight, weightScale, colSum] + (bias.map { [$0] } ?? []), keep: [packed]) { x, rows, y in
            args.M = rows; args.x = x; args.y = y
            return mlw_qlinear(&args)
        }
    }

    /// `Tensor.csrLinear` with its operands as the graph stores them.
    public static func csrLinear(values: Tensor, indices: Tensor, indptr: Tensor, inFeatures: Int,
                                 bias: Tensor?, relu: Bool) throws -> PreparedLayer {
        guard ready(values, .float32), ready(indices, .int32), ready(indptr, .int32), values.rank == 1, indices.rank == 1,
              indptr.rank == 1, indptr.count >= 1, values.count == indices.count, bias.map({ ready($0, .float32) }) ?? true else {
            throw TensorError("prepare", "csr_linear needs contiguous float32 values and int32 indices")
        }
        let outF = indptr.count - 1
        if let bias, bias.count != outF { throw TensorError("prepare", "csr_linear: bias has \(bias.count) entries for \(outF) outputs") }
        let csr = try Tensor.checkedCSR(values, indices, indptr, inFeatures: inFeatures)
        let bp = bias.map { UnsafePointer($0.ptr(Float.self)) }, vp = UnsafePointer(values.ptr(Float.self))
        let tensors = [values, indices, indptr] + (bias.map { [$0] } ?? [])
        return PreparedLayer(inFeatures, outF, tensors: tensors, keep: [csr]) { x, rows, y in
            csr.run(rows, x, y, values: vp, bias: bp, relu: relu)
        }
    }

    /// `Tensor.conv2d(x, weight:, bias:, stride:, padding:, activation:)` for inputs of
    /// shape [rows, c, h, w] (`rows` = images; features are c·h·w in, o·oh·ow out).
    public static func conv2d(weight: Tensor, bias: Tensor?, input: (c: Int, h: Int, w: Int), stride: (Int, Int),
                              padding: (Int, Int), relu: Bool) throws -> PreparedLayer {
        guard ready(weight, .float32), bias.map({ ready($0, .float32) }) ?? true else {
            throw TensorError("prepare", "conv2d needs a contiguous float32 weight and bias")
        }
        let setup = try ConvSetup(input: (input.c, input.h, input.w), weight: weight.shape, biasCount: bias?.count, stride: stride,
                                  padding: padding, dilation: (1, 1), groups: 1, shown: [-1, input.c, input.h, input.w])
        let wp = UnsafePointer(weight.ptr(Float.self)), bp = bias.map { UnsafePointer($0.ptr(Float.self)) }
        return PreparedLayer(input.c * input.h * input.w, setup.o * setup.oh * setup.ow, tensors: [weight] + (bias.map { [$0] } ?? [])) { x, n, y in
            setup.run(images: n, x: x, w: wp, bias: bp, out: y, relu: relu) ? 0 : -1
        }
    }

    /// `maxPool2d` / `avgPool2d` for inputs of shape [rows, c, h, w].
    public static func pool2d(input: (c: Int, h: Int, w: Int), kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                              isMax: Bool) throws -> PreparedLayer {
        let (oh, ow) = try poolGeometry(isMax ? "max_pool2d" : "avg_pool2d", h: input.h, w: input.w, kernel: kernel, stride: stride, padding: padding)
        let (c, h, w) = input
        return PreparedLayer(c * h * w, c * oh * ow, tensors: []) { x, n, y in
            mlw_pool2d_f32(x, n * c, h, w, kernel.0, kernel.1, stride.0, stride.1, padding.0, padding.1, oh, ow, isMax ? 1 : 0, y)
            return 0
        }
    }

    /// Layer norm of each row of [rows, cols] with float32 gamma and beta of `cols` (the
    /// kernel `Tensor.layerNormRows` runs; `y` may be `x`).
    public static func layerNormRows(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                     gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Double) {
        mlw_layer_norm_rows_f32(x, rows, cols, gamma, beta, Float(eps), y)
    }

    /// Row-wise softmax of [rows, cols] (`x` and `y` must not overlap).
    public static func softmaxRows(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        mlw_softmax_rows_f32(x, rows, cols, y)
    }
}

extension Tensor {
    /// The first element of a contiguous float32 tensor, else nil (for raw-pointer callers
    /// that keep the tensor alive while they use it).
    public var contiguousFloats: UnsafePointer<Float>? {
        dtype == .float32 && isContiguous ? UnsafePointer(ptr(Float.self)) : nil
    }

    /// The shape of tensors made again and again by `copying` (a program's outputs): the
    /// layout is computed once, so each copy allocates only its storage.
    public struct CopyLayout {
        let shape: [Int], strides: [Int], count: Int
        public init(shape: [Int]) {
            self.shape = shape; strides = ShapeUtil.contiguousStrides(shape); count = shape.reduce(1, *)
        }
    }

    /// A new float32 tensor of `layout`'s shape holding a copy of the floats at `p`.
    public static func copying(_ p: UnsafePointer<Float>, layout: CopyLayout) throws -> Tensor {
        let t = Tensor(storage: try TensorStorage(byteCount: layout.count * 4, zeroed: false, op: "copy"), dtype: .float32,
                       shape: layout.shape, strides: layout.strides, offset: 0)
        t.ptr(Float.self).update(from: p, count: layout.count)
        return t
    }
}
