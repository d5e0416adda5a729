#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A whole file mapped read-only into memory. Checkpoint readers hand out pointers into it, so a
/// 1 GB checkpoint costs no copy and no read() before its tensors are converted into the model's
/// buffer; the kernel pages it in as the conversion touches it. Unmapped when the last tensor
/// referring to it is gone.
final class MappedFile: @unchecked Sendable {
    let url: URL
    let bytes: UnsafeRawPointer
    let count: Int

    init(_ url: URL) throws {
        self.url = url
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else {
            throw TrainerError.badFile("\(url.path): cannot open (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw TrainerError.badFile("\(url.path): cannot stat") }
        count = Int(st.st_size)
        if count == 0 {
            // mmap refuses length 0; an empty file still needs a valid (unused) pointer.
            bytes = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 8))
            return
        }
        #if os(Linux)
        // Every byte will be converted into the model: map all pages in one call rather than
        // taking a page fault per 4 kB as the conversion walks the file.
        let flags = MAP_PRIVATE | MAP_POPULATE
        #else
        let flags = MAP_PRIVATE
        #endif
        guard let p = mmap(nil, count, PROT_READ, flags, fd, 0), p != MAP_FAILED else {
            throw TrainerError.badFile("\(url.path): cannot map (\(String(cString: strerror(errno))))")
        }
        bytes = UnsafeRawPointer(p)
    }

    deinit {
        if count == 0 { UnsafeMutableRawPointer(mutating: bytes).deallocate() }
        else { munmap(UnsafeMutableRawPointer(mutating: bytes), count) }
    }

    /// A little-endian integer at `offset` (the caller has checked the bounds).
    func load<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
