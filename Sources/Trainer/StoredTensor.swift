import Foundation

/// Element types found in checkpoints that the trainer converts to float32.
public enum StoredDType: String, Sendable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16"

    var size: Int { self == .f32 ? 4 : 2 }
}

/// One tensor inside a checkpoint file, not yet read: where its elements are in the mapped file,
/// their type, and the (element) strides of its view — PyTorch checkpoints may store a tensor as
/// a strided view of a larger storage.
struct StoredTensor {
    let file: MappedFile
    let dtype: StoredDType
    let shape: [Int]
    let strides: [Int]
    /// Byte offset of element [0, 0, …] in the file.
    let offset: Int

    var count: Int { shape.reduce(1, *) }

    /// Contiguous row-major strides for `shape`.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { strides[i] = s; s *= shape[i] }
        return strides
    }

    /// Writes the elements in row-major order into `out` as float32.
    func copy(into out: UnsafeMutablePointer<Float>) {
        let base = file.bytes + offset
        let n = count
        if n == 0 { return }
        if strides == Self.contiguousStrides(shape) {
            convert(base, out, n)
            return
        }
        // A strided view: walk the index space, one innermost run at a time.
        let rank = shape.count
        let inner = shape[rank - 1], innerStride = strides[rank - 1]
        var index = [Int](repeating: 0, count: rank)
        var o = 0
        while o < n {
            var element = 0
            for i in 0..<(rank - 1) { element += index[i] * strides[i] }
            for j in 0..<inner { convert(base + (element + j * innerStride) * dtype.size, out + o + j, 1) }
            o += inner
            var i = rank - 2
            while i >= 0 { index[i] += 1; if index[i] < shape[i] { break }; index[i] = 0; i -= 1 }
        }
    }

    private func convert(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        switch dtype {
        case .f32:
            #if _endian(little)
            UnsafeMutableRawPointer(out).copyMemory(from: p, byteCount: 4 * n)
            return
            #endif
            for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .bf16:
            for i in 0..<n { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
        case .f16:
            for i in 0..<n { out[i] = halfToFloat(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        }
    }

    /// Where the last element lies, in elements from the first, for bounds checks
    /// (the view's extent in its storage).
    var extent: Int {
        count == 0 ? 0 : zip(shape, strides).reduce(1) { $0 + ($1.0 - 1) * $1.1 }
    }
}

/// IEEE 754 binary16 → binary32, exact (subnormals, infinities and NaN included); by hand so it
/// works where Swift's Float16 is unavailable.
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h >> 15) << 31
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
    if exponent == 0 {
        // zero or subnormal: mantissa · 2^-24
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    }
    return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
}
