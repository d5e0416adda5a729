import Foundation

/// The entries of a zip file, as far as `torch.save` writes them: stored (uncompressed) entries,
/// zip64 where the file or an entry is over 4 GB. Entries are byte ranges of the mapped file.
struct ZipArchive {
    struct Entry {
        let name: String
        /// Byte offset of the entry's data in the file, and its length.
        let offset: Int
        let size: Int
    }

    let file: MappedFile
    let entries: [String: Entry]

    init(_ file: MappedFile) throws {
        self.file = file
        let path = file.url.path
        func bad(_ what: String) -> TrainerError { .badFile("\(path): not a readable zip archive (\(what))") }
        func u16(_ o: Int) -> Int { Int(file.load(UInt16.self, at: o)) }
        func u32(_ o: Int) -> Int { Int(file.load(UInt32.self, at: o)) }
        func u64(_ o: Int) -> Int { Int(clamping: file.load(UInt64.self, at: o)) }
        func inFile(_ offset: Int, _ length: Int) -> Bool { offset >= 0 && length >= 0 && offset <= file.count - length }

        // The end-of-central-directory record is in the last 22 + 65535 bytes (it may carry a comment).
        var eocd = -1
        var o = file.count - 22
        while o >= max(0, file.count - 22 - 0xFFFF) {
            if file.load(UInt32.self, at: o) == 0x0605_4B50 { eocd = o; break }
            o -= 1
        }
        guard eocd >= 0 else { throw bad("no end of central directory") }
        var entryCount = u16(eocd + 10), directorySize = u32(eocd + 12), directoryOffset = u32(eocd + 16)
        let locator = eocd - 20
        if locator >= 0, file.load(UInt32.self, at: locator) == 0x0706_4B50 {
            let record = u64(locator + 8)
            guard inFile(record, 56), file.load(UInt32.self, at: record) == 0x0606_4B50 else { throw bad("bad zip64 end record") }
            entryCount = u64(record + 32); directorySize = u64(record + 40); directoryOffset = u64(record + 48)
        }
        guard inFile(directoryOffset, directorySize) else { throw bad("central directory outside the file (truncated?)") }

        var entries: [String: Entry] = [:]
        var p = directoryOffset
        for _ in 0..<entryCount {
            guard inFile(p, 46), file.load(UInt32.self, at: p) == 0x0201_4B50 else { throw bad("bad central directory entry") }
            let flags = u16(p + 8), method = u16(p + 10)
            var compressed = u32(p + 20), size = u32(p + 24)
            let nameLength = u16(p + 28), extraLength = u16(p + 30), commentLength = u16(p + 32)
            var local = u32(p + 42)
            guard inFile(p + 46, nameLength + extraLength + commentLength) else { throw bad("entry past the directory") }
            let name = String(decoding: UnsafeRawBufferPointer(start: file.bytes + p + 46, count: nameLength), as: UTF8.self)
            // zip64 extra field: the 64-bit values of the fields that hold 0xFFFFFFFF, in this order.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = u16(e), length = u16(e + 2)
                if id == 0x0001 {
                    var q = e + 4
                    if size == 0xFFFF_FFFF { size = u64(q); q += 8 }
                    if compressed == 0xFFFF_FFFF { compressed = u64(q); q += 8 }
                    if local == 0xFFFF_FFFF { local = u64(q); q += 8 }
                }
                e += 4 + length
            }
            guard flags & 1 == 0 else { throw TrainerError.unsupported("\(path): entry \(name) is encrypted") }
            guard method == 0, compressed == size else {
                throw TrainerError.unsupported("\(path): entry \(name) is compressed (method \(method)); torch.save writes stored entries only")
            }
            guard inFile(local, 30), file.load(UInt32.self, at: local) == 0x0403_4B50 else { throw bad("bad local header of \(name)") }
            let data = local + 30 + u16(local + 26) + u16(local + 28)
            guard inFile(data, size) else {
                throw TrainerError.badFile("\(path): entry \(name) ends past the end of the file (truncated)")
            }
            entries[name] = Entry(name: name, offset: data, size: size)
            p += 46 + nameLength + extraLength + commentLength
        }
        self.entries = entries
    }

    static func isZip(_ file: MappedFile) -> Bool {
        file.count >= 4 && file.load(UInt32.self, at: 0) == 0x0403_4B50
    }
}
