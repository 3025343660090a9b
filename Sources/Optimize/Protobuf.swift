import Graph
import Tensor

/// A minimal protobuf writer: enough of the wire format for ONNX files. A field is a
/// key (field number << 3 | wire type) then its value: wire type 0 = varint, 1 = 8
/// bytes, 2 = length-delimited (strings, bytes, sub-messages, packed repeats), 5 = 4 bytes.
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func key(_ field: Int, _ wire: Int) { varint(UInt64(field << 3 | wire)) }
    /// int32/int64/enum fields: negative numbers are 10-byte two's complement varints.
    mutating func int(_ field: Int, _ v: Int) { key(field, 0); varint(UInt64(bitPattern: Int64(v))) }
    mutating func float(_ field: Int, _ v: Float) {
        key(field, 5)
        withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }
    mutating func data(_ field: Int, _ b: [UInt8]) { key(field, 2); varint(UInt64(b.count)); bytes.append(contentsOf: b) }
    mutating func string(_ field: Int, _ s: String) { data(field, Array(s.utf8)) }
    mutating func message(_ field: Int, _ m: ProtoWriter) { data(field, m.bytes) }
    mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var m = ProtoWriter(); build(&m); message(field, m)
    }
    /// A packed repeated int64 field (proto3 default for repeated scalars).
    mutating func packed(_ field: Int, _ vs: [Int]) {
        var m = ProtoWriter()
        for v in vs { m.varint(UInt64(bitPattern: Int64(v))) }
        message(field, m)
    }
}

/// ONNX field numbers (onnx/onnx.proto, IR version 8).
enum ONNXField {
    // ModelProto
    static let modelIRVersion = 1, modelProducerName = 2, modelProducerVersion = 3, modelGraph = 7, modelOpsetImport = 8
    // OperatorSetIdProto
    static let opsetDomain = 1, opsetVersion = 2
    // GraphProto
    static let graphNode = 1, graphName = 2, graphInitializer = 5, graphInput = 11, graphOutput = 12
    // NodeProto
    static let nodeInput = 1, nodeOutput = 2, nodeName = 3, nodeOpType = 4, nodeAttribute = 5
    // AttributeProto (type enum: FLOAT 1, INT 2, STRING 3, FLOATS 6, INTS 7)
    static let attrName = 1, attrF = 2, attrI = 3, attrS = 4, attrInts = 8, attrType = 20
    // TensorProto (data_type enum: FLOAT 1, UINT8 2, INT8 3, INT32 6, INT64 7, BOOL 9, DOUBLE 11)
    static let tensorDims = 1, tensorDataType = 2, tensorName = 8, tensorRawData = 9
    // ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto, Dimension
    static let valueName = 1, valueType = 2, typeTensor = 1, tensorElemType = 1, tensorShape = 2
    static let shapeDim = 1, dimValue = 1, dimParam = 2
}

/// ONNX TensorProto.DataType of an MLW dtype.
func onnxType(_ d: DType) -> Int {
    switch d { case .float32: return 1; case .uint8: return 2; case .int8: return 3; case .int32: return 6; case .bool: return 9; case .float64: return 11 }
}

/// Little-endian bytes of a tensor's elements in row-major order.
func rawBytes(_ t: Tensor) -> [UInt8] {
    var out: [UInt8] = []
    func append<T>(_ xs: [T]) { xs.withUnsafeBytes { out.append(contentsOf: $0) } }   // x86-64 / arm64 are little-endian
    switch t.dtype {
    case .float32: append(t.toFloats())
    case .float64: append(t.toDoubles())
    case .int32: append(t.toInts().map { Int32($0) })
    case .int8: append(t.toInts().map { Int8($0) })
    case .uint8, .bool: append(t.toInts().map { UInt8($0) })
    }
    return out
}
