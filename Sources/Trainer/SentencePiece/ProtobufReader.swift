import Foundation

/// Reads protobuf's wire format: just enough for sentencepiece's `ModelProto` (varints, 32-bit
/// floats, length-delimited strings/bytes/messages; other wire types are skipped). Every read is
/// bounds-checked so that a truncated or garbled file gives an error naming the file and the byte
/// offset instead of a crash.
struct ProtobufReader {
    enum WireType: Int { case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5 }

    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int
    /// Names the file (and message) in errors.
    let context: String

    init(bytes: [UInt8], range: Range<Int>? = nil, context: String) {
        self.bytes = bytes
        self.position = range?.lowerBound ?? 0
        self.end = range?.upperBound ?? bytes.count
        self.context = context
    }

    var isAtEnd: Bool { position >= end }

    func error(_ message: String) -> TrainerError {
        .badFile("\(context): \(message) at byte \(position) (truncated or not a sentencepiece model?)")
    }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func nextField() throws -> (number: Int, wireType: WireType)? {
        if isAtEnd { return nil }
        let key = try varint()
        guard let wire = WireType(rawValue: Int(key & 7)) else { throw error("unknown wire type \(key & 7)") }
        let number = Int(key >> 3)
        guard number > 0 else { throw error("field number 0") }
        return (number, wire)
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw error("varint runs past the end") }
            let b = bytes[position]
            position += 1
            guard shift < 64 else { throw error("varint longer than 10 bytes") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// An `int32` field (negative values are sign-extended 10-byte varints).
    mutating func int32() throws -> Int32 { Int32(truncatingIfNeeded: try varint()) }

    mutating func bool() throws -> Bool { try varint() != 0 }

    mutating func float() throws -> Float {
        guard end - position >= 4 else { throw error("float runs past the end") }
        var bits: UInt32 = 0
        for i in 0..<4 { bits |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return Float(bitPattern: bits)
    }

    /// The byte range of a length-delimited field (a string, bytes or an embedded message).
    mutating func lengthDelimited() throws -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(end - position) else { throw error("length \(length) runs past the end") }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    mutating func string() throws -> String {
        let range = try lengthDelimited()
        guard let s = String(validating: bytes[range], as: UTF8.self) else { throw error("string is not UTF-8") }
        return s
    }

    mutating func skip(_ wire: WireType) throws {
        switch wire {
        case .varint: _ = try varint()
        case .fixed64:
            guard end - position >= 8 else { throw error("fixed64 runs past the end") }
            position += 8
        case .fixed32:
            guard end - position >= 4 else { throw error("fixed32 runs past the end") }
            position += 4
        case .lengthDelimited: _ = try lengthDelimited()
        case .startGroup, .endGroup: throw error("groups are not used by sentencepiece")
        }
    }

    /// Checks a field has the wire type its schema says, so a garbled file cannot be misread.
    func expect(_ wire: WireType, _ actual: WireType, field: String) throws {
        guard wire == actual else { throw error("field \(field) has wire type \(actual.rawValue), expected \(wire.rawValue)") }
    }
}
