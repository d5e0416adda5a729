import Foundation

/// The safetensors format: 8-byte little-endian header length N, N bytes of JSON
/// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the raw
/// little-endian tensor data (offsets relative to the end of the header).
public enum Safetensors {
    public struct Tensor {
        public var shape: [Int]
        public var values: [Float]
        public init(shape: [Int], values: [Float]) { self.shape = shape; self.values = values }
    }

    /// Writes F32 tensors in the given order.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], to url: URL) throws {
        for (name, t) in tensors {
            precondition(t.values.count == t.shape.reduce(1, *), "\(name): shape/count mismatch")
        }
        try write(tensors.map { (name: $0.name, shape: $0.tensor.shape) }, to: url) { i, handle in
            try tensors[i].tensor.values.withUnsafeBytes { try handle.write(contentsOf: $0) }
        }
    }

    /// Writes F32 tensors straight from float memory (no copy of a large model into one Data).
    static func write(_ tensors: [(name: String, shape: [Int], values: UnsafePointer<Float>)], to url: URL) throws {
        try write(tensors.map { (name: $0.name, shape: $0.shape) }, to: url) { i, handle in
            let t = tensors[i]
            try handle.write(contentsOf: UnsafeRawBufferPointer(start: t.values, count: t.shape.reduce(1, *) * 4))
        }
    }

    private static func write(_ entries: [(name: String, shape: [Int])], to url: URL,
                              data: (Int, FileHandle) throws -> Void) throws {
        var header: [String: Any] = ["__metadata__": ["format": "pt"]]
        var offset = 0
        for (name, shape) in entries {
            let bytes = shape.reduce(1, *) * 4
            header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so the data starts 8-byte aligned (as the reference writer does).
        while json.count % 8 != 0 { json.append(0x20) }
        guard FileManager.default.createFile(atPath: url.path, contents: nil),
              let handle = try? FileHandle(forWritingTo: url)
        else { throw TrainerError.badFile("\(url.path): cannot create") }
        defer { try? handle.close() }
        var n = UInt64(json.count).littleEndian
        try withUnsafeBytes(of: &n) { try handle.write(contentsOf: $0) }
        try handle.write(contentsOf: json)
        for i in entries.indices { try data(i, handle) }
    }

    /// Reads every tensor as float32 (F32, F16 and BF16 are converted).
    public static func read(_ url: URL) throws -> [String: Tensor] {
        try index(MappedFile(url)).mapValues { stored in
            var values = [Float](repeating: 0, count: stored.count)
            values.withUnsafeMutableBufferPointer { stored.copy(into: $0.baseAddress!) }
            return Tensor(shape: stored.shape, values: values)
        }
    }

    /// The tensors of a mapped safetensors file, checked against the file's size (a truncated
    /// download fails here, naming the file and the first tensor past its end).
    static func index(_ file: MappedFile) throws -> [String: StoredTensor] {
        let path = file.url.path
        guard file.count >= 8 else { throw TrainerError.badFile("\(path): \(file.count) bytes, too short for a safetensors file") }
        let n = Int(clamping: file.load(UInt64.self, at: 0))
        guard n <= file.count - 8 else {
            throw TrainerError.badFile("\(path): the header says it is \(n) bytes long but the file has only \(file.count) bytes (truncated, or not safetensors)")
        }
        let headerBytes = Data(bytes: file.bytes + 8, count: n)
        guard let header = (try? JSONSerialization.jsonObject(with: headerBytes)) as? [String: Any] else {
            throw TrainerError.badFile("\(path): the safetensors header is not a JSON object")
        }
        let dataStart = 8 + n, dataBytes = file.count - dataStart
        var out: [String: StoredTensor] = [:]
        for (name, entry) in header where name != "__metadata__" {
            guard let e = entry as? [String: Any], let dtypeName = e["dtype"] as? String,
                  let shape = e["shape"] as? [Int], shape.allSatisfy({ $0 >= 0 }),
                  let offs = e["data_offsets"] as? [Int], offs.count == 2, 0 <= offs[0], offs[0] <= offs[1]
            else { throw TrainerError.badFile("\(path): tensor \(name): malformed header entry") }
            guard let dtype = StoredDType(rawValue: dtypeName) else {
                throw TrainerError.unsupported("\(path): tensor \(name) has dtype \(dtypeName) (supported: F32, F16, BF16)")
            }
            let count = shape.reduce(1, *)
            guard offs[1] - offs[0] == count * dtype.size else {
                throw TrainerError.badFile("\(path): tensor \(name): \(offs[1] - offs[0]) bytes for shape \(shape) of \(dtypeName)")
            }
            guard offs[1] <= dataBytes else {
                throw TrainerError.badFile("\(path): tensor \(name) ends at byte \(dataStart + offs[1]) but the file has only \(file.count) bytes (truncated)")
            }
            out[name] = StoredTensor(file: file, dtype: dtype, shape: shape,
                                     strides: StoredTensor.contiguousStrides(shape), offset: dataStart + offs[0])
        }
        return out
    }
}
