import CKernels

/// Set by any worker that failed (a benign race: every writer stores true).
final class Flag: @unchecked Sendable { var value = false }

/// Raw pointers handed to the per-image workers (each writes a disjoint output slice).
struct ConvPointers: @unchecked Sendable {
    let x, w, out: UnsafeMutablePointer<Float>
    let bias: UnsafePointer<Float>?
}

/// im2col: the input patches of one image and group as a [C/g·kh·kw, OH·width] matrix.
struct Im2Col: @unchecked Sendable {
    let c, h, w, cg, kh, kw, oh, ow: Int
    let stride, padding, dilation: (Int, Int)

    /// Stride-1 convolutions lower over the padded width: each im2col row is one long
    /// copy instead of OH short ones; the extra output columns are dropped after the GEMM.
    var padded: Bool { stride == (1, 1) }
    /// Columns per output row in the GEMM's result.
    var width: Int { padded ? w + 2 * padding.1 : ow }
    /// Floats of per-worker scratch for the padded planes.
    var scratchCount: Int { padded ? cg * (h + 2 * padding.0) * (w + 2 * padding.1) + (kw - 1) * dilation.1 + 1 : 1 }

    func fill(_ dst: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, from x: UnsafePointer<Float>, image: Int, group: Int) {
        let src = x + ((image * c) + group * cg) * h * w
        if padded {
            mlw_im2col_padded_f32(src, cg, h, w, kh, kw, padding.0, padding.1, dilation.0, dilation.1, oh, scratch, dst)
        } else {
            mlw_im2col_f32(src, cg, h, w, kh, kw, stride.0, stride.1, padding.0, padding.1, dilation.0, dilation.1, oh, ow, dst)
        }
    }
}

/// A convolution's geometry, checked once (`Tensor.conv2d` per call, `PreparedLayer.conv2d`
/// once per layer), and its kernel on raw float32 NCHW pointers.
struct ConvSetup: @unchecked Sendable {
    let c, h, w, o, oh, ow, groups: Int
    let params: Im2Col
    let rowsK, og, gemmCols: Int

    /// `shown`: the input shape as error messages print it.
    init(input: (Int, Int, Int), weight: [Int], biasCount: Int?, stride: (Int, Int), padding: (Int, Int),
         dilation: (Int, Int), groups: Int, shown: [Int]) throws {
        let (c, h, w) = input
        guard weight.count == 4 else { throw TensorError("conv2d", "expected a 4-D OIHW weight, got \(fmt(weight))") }
        let (o, cg, kh, kw) = (weight[0], weight[1], weight[2], weight[3])
        let limit = 1 << 24   // keeps every size product below overflow
        guard [stride.0, stride.1, padding.0, padding.1, dilation.0, dilation.1, groups, kh, kw].allSatisfy({ $0 <= limit }) else {
            throw TensorError("conv2d", "stride, padding, dilation, groups or kernel size above \(limit)")
        }
        guard groups >= 1, stride.0 >= 1, stride.1 >= 1, dilation.0 >= 1, dilation.1 >= 1, padding.0 >= 0, padding.1 >= 0 else {
            throw TensorError("conv2d", "stride, dilation and groups must be >= 1 and padding >= 0")
        }
        guard c % groups == 0, o % groups == 0, cg == c / groups else {
            throw TensorError("conv2d", "input \(fmt(shown)) and weight \(fmt(weight)) are not compatible with groups=\(groups)")
        }
        if let biasCount, biasCount != o {
            throw TensorError("conv2d", "bias of \(biasCount) values does not match \(o) output channels")
        }
        let spanH = h + 2 * padding.0 - dilation.0 * (kh - 1) - 1, spanW = w + 2 * padding.1 - dilation.1 * (kw - 1) - 1
        guard spanH >= 0, spanW >= 0, kh > 0, kw > 0 else {
            throw TensorError("conv2d", "kernel \(kh)x\(kw) does not fit input \(h)x\(w) with padding \(padding) and dilation \(dilation)")
        }
        let oh = spanH / stride.0 + 1, ow = spanW / stride.1 + 1
        params = Im2Col(c: c, h: h, w: w, cg: cg, kh: kh, kw: kw, oh: oh, ow: ow, stride: stride, padding: padding, dilation: dilation)
        rowsK = cg * kh * kw; og = o / groups; gemmCols = oh * params.width
        for (a, b) in [(rowsK, gemmCols), (og, gemmCols), (1, params.scratchCount)] {
            let (count, overflow) = a.multipliedReportingOverflow(by: b)
            guard !overflow, count <= TensorStorage.maxBytes / 4 else {
                throw TensorError("conv2d", "im2col buffer of \(a) x \(b) is too large")
            }
        }
        (self.c, self.h, self.w, self.o, self.oh, self.ow, self.groups) = (c, h, w, o, oh, ow, groups)
    }

    /// out [images, o, oh, ow] = act(conv(x [images, c, h, w])); false when out of memory.
    /// One image per work item on the kernels' thread pool: images are independent, so
    /// running them on several threads (each GEMM then single-threaded) gives the same bits.
    func run(images n: Int, x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
             out: UnsafeMutablePointer<Float>, relu: Bool) -> Bool {
        let workers = Swift.min(n, Tensor.threads)
        let ptrs = ConvPointers(x: UnsafeMutablePointer(mutating: x), w: UnsafeMutablePointer(mutating: w), out: out, bias: bias)
        let failed = Flag()
        let act = relu ? Int32(MLW_ACT_RELU) : 0
        let (params, o, oh, ow, groups, rowsK, og, gemmCols) = (self.params, self.o, self.oh, self.ow, self.groups, self.rowsK, self.og, self.gemmCols)
        let cols = oh * ow, direct = params.width == ow
        let work: (Int) -> Void = { worker in
            // im2col writes every cell, so the buffers start uninitialized.
            let col = UnsafeMutablePointer<Float>.allocate(capacity: rowsK * gemmCols)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: params.scratchCount)
            let wide: UnsafeMutablePointer<Float>? = direct ? nil : .allocate(capacity: og * gemmCols)
            defer { col.deallocate(); scratch.deallocate(); wide?.deallocate() }
            for img in Swift.stride(from: worker, to: n, by: workers) {
                for g in 0..<groups {
                    params.fill(col, scratch: scratch, from: ptrs.x, image: img, group: g)
                    let bias = ptrs.bias.map { $0 + g * og }
                    let dst = ptrs.out + (img * o + g * og) * cols
                    if mlw_sgemm(og, gemmCols, rowsK, 1, ptrs.w + g * og * rowsK, rowsK, 1, col, gemmCols, 1,
                              0, wide ?? dst, gemmCols, bias, bias == nil ? 0 : Int32(MLW_BIAS_PER_ROW), act) != 0 { failed.value = true }
                    if let wide { mlw_compact_rows_f32(wide, og * oh, params.width, ow, dst) }
                }
            }
        }
        Tensor.parallelFor(workers, maxThreads: workers, work)
        return !failed.value
    }
}

/// Pooling geometry, checked once: output height and width.
func poolGeometry(_ op: String, h: Int, w: Int, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)) throws -> (Int, Int) {
    guard [kernel.0, kernel.1, stride.0, stride.1, padding.0, padding.1].allSatisfy({ $0 <= 1 << 24 }) else {
        throw TensorError(op, "kernel, stride or padding above \(1 << 24)")
    }
    guard kernel.0 >= 1, kernel.1 >= 1, stride.0 >= 1, stride.1 >= 1, padding.0 >= 0, padding.1 >= 0,
          padding.0 * 2 <= kernel.0, padding.1 * 2 <= kernel.1 else {
        throw TensorError(op, "invalid kernel \(kernel), stride \(stride) or padding \(padding)")
    }
    let spanH = h + 2 * padding.0 - kernel.0, spanW = w + 2 * padding.1 - kernel.1
    guard spanH >= 0, spanW >= 0 else { throw TensorError(op, "kernel \(kernel) does not fit input \(h)x\(w)") }
    return (spanH / stride.0 + 1, spanW / stride.1 + 1)
}

/// 2-D convolution (NCHW) by im2col + the float32 GEMM, and 2-D pooling.
extension Tensor {
    /// conv2d: input [N, C, H, W], weight [O, C/groups, kh, kw], bias [O].
    /// Output [N, O, OH, OW] with OH = (H + 2·pad - dil·(kh-1) - 1) / stride + 1.
    /// Computes in float32. Per image and group: col = im2col(x) [C/g·kh·kw, OH·OW],
    /// out = act(W_g @ col + bias) (bias and ReLU fused in the GEMM's store loop).
    public static func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil,
                              stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                              dilation: (Int, Int) = (1, 1), groups: Int = 1, activation: Activation = .none) throws -> Tensor {
        guard input.rank == 4, weight.rank == 4 else {
            throw TensorError("conv2d", "expected 4-D input and weight (NCHW, OIHW), got \(fmt(input.shape)) and \(fmt(weight.shape))")
        }
        let n = input.shape[0]
        let setup = try ConvSetup(input: (input.shape[1], input.shape[2], input.shape[3]), weight: weight.shape, biasCount: bias?.count,
                                  stride: stride, padding: padding, dilation: dilation, groups: groups, shown: input.shape)
        let x = input.astype(.float32).contiguous(), wt = weight.astype(.float32).contiguous()
        let b = bias?.astype(.float32).contiguous()
        let out = try Tensor(uninitialized: [n, setup.o, setup.oh, setup.ow], dtype: .float32, op: "conv2d")   // the GEMM writes every cell
        let ok = withExtendedLifetime((x, wt, b)) {
            setup.run(images: n, x: x.ptr(Float.self), w: wt.ptr(Float.self), bias: b.map { UnsafePointer($0.ptr(Float.self)) },
                      out: out.ptr(Float.self), relu: activation == .relu)
        }
        if !ok { throw TensorError("conv2d", "out of memory for the GEMM packing buffers") }
        return activation.runsAfterStoreLoop ? try out.activated(activation) : out
    }

    /// Max pooling over [N, C, H, W]; padded cells never win.
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) throws -> Tensor {
        try pool2d(kernel: kernel, stride: stride ?? kernel, padding: padding, isMax: true)
    }

    /// Average pooling over [N, C, H, W]; padded cells count as zeros in the divisor
    /// (PyTorch's count_include_pad=True).
    public func avgPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) throws -> Tensor {
        try pool2d(kernel: kernel, stride: stride ?? kernel, padding: padding, isMax: false)
    }

    private func pool2d(kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), isMax: Bool) throws -> Tensor {
        let op = isMax ? "max_pool2d" : "avg_pool2d"
        guard rank == 4 else { throw TensorError(op, "expected a 4-D NCHW input, got \(fmt(shape))") }
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (oh, ow) = try poolGeometry(op, h: h, w: w, kernel: kernel, stride: stride, padding: padding)
        let x = astype(.float32).contiguous()
        let out = try Tensor(uninitialized: [n, c, oh, ow], dtype: .float32, op: op)
        withExtendedLifetime(x) {
            mlw_pool2d_f32(x.ptr(Float.self), n * c, h, w, kernel.0, kernel.1, stride.0, stride.1,
                           padding.0, padding.1, oh, ow, isMax ? 1 : 0, out.ptr(Float.self))
        }
        return out
    }
}
