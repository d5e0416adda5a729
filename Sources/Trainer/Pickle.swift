import Foundation

/// A value on the restricted unpickler's stack. Lists and dicts are reference types because
/// pickle mutates them after creation (APPENDS, SETITEMS) through the memo.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// A module-level name the caller allowed (a class or function, never called by the machine).
    case global(module: String, name: String)
    /// A value made by the caller's hooks (e.g. a storage or a tensor).
    case object(AnyObject)
}

final class PickleList { var items: [PickleValue] = [] }
final class PickleDict { var items: [(key: PickleValue, value: PickleValue)] = [] }

/// A pickle interpreter for data only: it implements the opcodes that `torch.save` of a state
/// dict emits (protocol 2, plus the few protocol-4 framing ones), and *never* imports or calls
/// anything. GLOBAL, REDUCE, BUILD and persistent ids go to the caller's hooks, which allow a
/// fixed list of names and build plain values for them; anything else is refused with the
/// source, the byte offset and the opcode or name.
struct RestrictedUnpickler {
    /// For errors: e.g. "/path/pytorch_model.bin: archive/data.pkl".
    let source: String
    let bytes: UnsafeRawBufferPointer
    /// module, name → the value that stands for it (throw to refuse).
    var resolveGlobal: (String, String) throws -> PickleValue
    /// persistent id → value (torch: a storage).
    var persistentLoad: (PickleValue) throws -> PickleValue
    /// callable, arguments → result.
    var reduce: (PickleValue, [PickleValue]) throws -> PickleValue
    /// object, state → (BUILD; the object is changed in place or the state ignored).
    var build: (PickleValue, PickleValue) throws -> Void

    func run() throws -> PickleValue {
        var stack: [PickleValue] = []
        var marks: [Int] = []
        var memo: [Int: PickleValue] = [:]
        var pos = 0
        func fail(_ what: String) -> TrainerError { .unsupported("\(source): \(what) (byte \(pos))") }
        func need(_ n: Int) throws {
            guard pos + n <= bytes.count else { throw TrainerError.badFile("\(source): pickle ends early (byte \(pos))") }
        }
        func u8() throws -> Int { try need(1); defer { pos += 1 }; return Int(bytes[pos]) }
        func le<T: FixedWidthInteger>(_ t: T.Type) throws -> T {
            try need(MemoryLayout<T>.size)
            defer { pos += MemoryLayout<T>.size }
            return T(littleEndian: bytes.loadUnaligned(fromByteOffset: pos, as: T.self))
        }
        func raw(_ n: Int) throws -> [UInt8] {
            guard n >= 0 else { throw fail("negative length") }
            try need(n); defer { pos += n }
            return Array(bytes[pos..<(pos + n)])
        }
        func line() throws -> String {
            var out: [UInt8] = []
            while true {
                let c = try u8()
                if c == 0x0A { return String(decoding: out, as: UTF8.self) }
                out.append(UInt8(c))
            }
        }
        func pop() throws -> PickleValue {
            guard let v = stack.popLast() else { throw fail("stack underflow") }
            return v
        }
        func popToMark() throws -> [PickleValue] {
            guard let m = marks.popLast(), m <= stack.count else { throw fail("no mark") }
            defer { stack.removeSubrange(m...) }
            return Array(stack[m...])
        }
        func memoGet(_ i: Int) throws -> PickleValue {
            guard let v = memo[i] else { throw fail("memo \(i) is not set") }
            return v
        }
        func top() throws -> PickleValue {
            guard let v = stack.last else { throw fail("stack underflow") }
            return v
        }
        func setItems(_ dictValue: PickleValue, _ flat: [PickleValue]) throws {
            guard case .dict(let d) = dictValue, flat.count % 2 == 0 else { throw fail("SETITEMS on a non-dict") }
            for i in stride(from: 0, to: flat.count, by: 2) { d.items.append((flat[i], flat[i + 1])) }
        }

        while true {
            let at = pos
            let op = try u8()
            switch op {
            case 0x80: _ = try u8()                                   // PROTO
            case 0x95: _ = try le(UInt64.self)                        // FRAME
            case 0x2E: return try pop()                               // STOP
            case 0x28: marks.append(stack.count)                      // MARK
            case 0x7D: stack.append(.dict(PickleDict()))              // EMPTY_DICT
            case 0x5D: stack.append(.list(PickleList()))              // EMPTY_LIST
            case 0x29: stack.append(.tuple([]))                       // EMPTY_TUPLE
            case 0x4E: stack.append(.none)                            // NONE
            case 0x88: stack.append(.bool(true))                      // NEWTRUE
            case 0x89: stack.append(.bool(false))                     // NEWFALSE
            case 0x4B: stack.append(.int(try u8()))                   // BININT1
            case 0x4D: stack.append(.int(Int(try le(UInt16.self))))   // BININT2
            case 0x4A: stack.append(.int(Int(try le(Int32.self))))    // BININT
            case 0x8A:                                                // LONG1
                let n = try u8()
                guard n <= 8 else { throw fail("integer of \(n) bytes") }
                let b = try raw(n)
                var v: UInt64 = 0
                for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
                if n > 0, n < 8, b[n - 1] & 0x80 != 0 { v |= ~0 << (8 * UInt64(n)) }   // sign-extend
                stack.append(.int(Int(Int64(bitPattern: v))))
            case 0x47:                                                // BINFLOAT (big-endian)
                try need(8)
                let v = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: pos, as: UInt64.self)); pos += 8
                stack.append(.float(Double(bitPattern: v)))
            case 0x58: stack.append(.string(String(decoding: try raw(Int(try le(UInt32.self))), as: UTF8.self)))   // BINUNICODE
            case 0x8C: stack.append(.string(String(decoding: try raw(try u8()), as: UTF8.self)))                  // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(String(decoding: try raw(Int(clamping: try le(UInt64.self))), as: UTF8.self)))  // BINUNICODE8
            case 0x54: stack.append(.string(String(decoding: try raw(Int(try le(Int32.self))), as: UTF8.self)))   // BINSTRING
            case 0x55: stack.append(.string(String(decoding: try raw(try u8()), as: UTF8.self)))                  // SHORT_BINSTRING
            case 0x42: stack.append(.bytes(try raw(Int(try le(UInt32.self)))))                                      // BINBYTES
            case 0x43: stack.append(.bytes(try raw(try u8())))                                                      // SHORT_BINBYTES
            case 0x71: memo[try u8()] = try top()                     // BINPUT
            case 0x72: memo[Int(try le(UInt32.self))] = try top()     // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()                   // MEMOIZE
            case 0x68: stack.append(try memoGet(try u8()))            // BINGET
            case 0x6A: stack.append(try memoGet(Int(try le(UInt32.self))))   // LONG_BINGET
            case 0x74: stack.append(.tuple(try popToMark()))          // TUPLE
            case 0x85: stack.append(.tuple([try pop()]))              // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple([a, b]))          // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple([a, b, c]))   // TUPLE3
            case 0x61:                                                // APPEND
                let v = try pop()
                guard case .list(let l) = try top() else { throw fail("APPEND to a non-list") }
                l.items.append(v)
            case 0x65:                                                // APPENDS
                let vs = try popToMark()
                guard case .list(let l) = try top() else { throw fail("APPENDS to a non-list") }
                l.items += vs
            case 0x73: let v = try pop(), k = try pop(); try setItems(try top(), [k, v])   // SETITEM
            case 0x75: let kv = try popToMark(); try setItems(try top(), kv)               // SETITEMS
            case 0x63:                                                // GLOBAL
                let module = try line(), name = try line()
                stack.append(try resolveGlobal(module, name))
            case 0x93:                                                // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
                    throw fail("STACK_GLOBAL without names")
                }
                stack.append(try resolveGlobal(module, name))
            case 0x51: stack.append(try persistentLoad(try pop()))    // BINPERSID
            case 0x52:                                                // REDUCE
                guard case .tuple(let args) = try pop() else { throw fail("REDUCE arguments are not a tuple") }
                stack.append(try reduce(try pop(), args))
            case 0x62: let state = try pop(); try build(try top(), state)   // BUILD
            default:
                pos = at
                let hex = String(op, radix: 16, uppercase: true)
                throw fail("pickle opcode 0x\(hex.count < 2 ? "0" + hex : hex) is not supported (only what torch.save writes for a state dict)")
            }
        }
    }
}
