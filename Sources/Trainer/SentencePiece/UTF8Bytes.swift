import Foundation

/// UTF-8 helpers shared by the normalizers, the segmenters and decoding.
enum UTF8Bytes {
    static let spaceSymbol: [UInt8] = [0xE2, 0x96, 0x81]   // U+2581 "▁"
    static let replacementCharacter: [UInt8] = [0xEF, 0xBF, 0xBD]

    /// Length of the character whose lead byte is `b` (sentencepiece's `OneCharLen`: continuation
    /// bytes count as one).
    @inline(__always) static func charLength(lead b: UInt8) -> Int {
        b < 0xC0 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
    }

    /// Byte length of the valid UTF-8 character at `bytes[i]`, or nil if it is malformed
    /// (truncated, a stray continuation byte, overlong, a surrogate or beyond U+10FFFF).
    static func validCharLength(_ bytes: [UInt8], at i: Int) -> Int? {
        let b0 = bytes[i]
        if b0 < 0x80 { return 1 }
        let n = b0 & 0xE0 == 0xC0 ? 2 : b0 & 0xF0 == 0xE0 ? 3 : b0 & 0xF8 == 0xF0 ? 4 : 0
        guard n > 0, i + n <= bytes.count else { return nil }
        var cp = UInt32(b0) & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07)
        for k in 1..<n {
            let b = bytes[i + k]
            guard b & 0xC0 == 0x80 else { return nil }
            cp = cp << 6 | UInt32(b & 0x3F)
        }
        let minimum: UInt32 = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000
        guard cp >= minimum, cp < 0xD800 || (cp >= 0xE000 && cp <= 0x10FFFF) else { return nil }
        return n
    }

    /// `<0xNN>` → NN, the byte a byte-fallback piece stands for.
    static func byteValue(ofPiece piece: String) -> UInt8? {
        let u = Array(piece.utf8)
        guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E else { return nil }
        return UInt8(String(decoding: u[3...4], as: UTF8.self), radix: 16)
    }

    static func bytePieceName(_ b: UInt8) -> String {
        let hex = String(b, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
    }
}
