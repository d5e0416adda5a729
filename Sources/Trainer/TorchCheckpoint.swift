import Foundation

/// PyTorch's `pytorch_model.bin` as written by `torch.save(state_dict)` since PyTorch 1.6: a zip
/// with `<archive>/data.pkl` (the pickled dict of tensors) and one entry `<archive>/data/<key>` per
/// storage. The pickle is read by `RestrictedUnpickler` with exactly these names allowed:
/// `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2` and the float32/float16/bfloat16
/// storage classes. Nothing in the file is executed.
enum TorchCheckpoint {
    /// Storage classes torch.save names in persistent ids, and the element type they hold.
    static let storageTypes: [String: StoredDType] = ["FloatStorage": .f32, "HalfStorage": .f16, "BFloat16Storage": .bf16]

    /// A storage: a zip entry of elements of one type.
    final class Storage {
        let dtype: StoredDType
        let entry: ZipArchive.Entry
        init(dtype: StoredDType, entry: ZipArchive.Entry) { self.dtype = dtype; self.entry = entry }
    }
    final class TensorBox {
        let tensor: StoredTensor
        init(_ tensor: StoredTensor) { self.tensor = tensor }
    }

    static func index(_ file: MappedFile) throws -> [String: StoredTensor] {
        let path = file.url.path
        guard ZipArchive.isZip(file) else {
            if file.count >= 2, file.bytes.load(as: UInt8.self) == 0x80 {
                throw TrainerError.unsupported("\(path): the legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with a recent PyTorch or as safetensors")
            }
            throw TrainerError.badFile("\(path): not a PyTorch zip checkpoint")
        }
        let zip = try ZipArchive(file)
        guard let pickle = zip.entries.values.first(where: { $0.name.hasSuffix("/data.pkl") || $0.name == "data.pkl" }) else {
            throw TrainerError.badFile("\(path): no data.pkl in the archive")
        }
        let prefix = String(pickle.name.dropLast("data.pkl".count))
        if let order = zip.entries[prefix + "byteorder"],
           String(decoding: UnsafeRawBufferPointer(start: file.bytes + order.offset, count: order.size), as: UTF8.self) != "little" {
            throw TrainerError.unsupported("\(path): big-endian storages")
        }
        let source = "\(path): \(pickle.name)"
        let machine = RestrictedUnpickler(
            source: source, bytes: UnsafeRawBufferPointer(start: file.bytes + pickle.offset, count: pickle.size),
            resolveGlobal: { module, name in
                switch (module, name) {
                case ("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"): return .global(module: module, name: name)
                case ("torch", let storage) where storageTypes[storage] != nil: return .global(module: module, name: name)
                default:
                    let hint = module == "torch" && name.hasSuffix("Storage") ? " (tensors must be float32, float16 or bfloat16)" : ""
                    throw TrainerError.unsupported("\(source): pickle global \(module).\(name) is not allowed\(hint): only a state dict of tensors can be read")
                }
            },
            persistentLoad: { id in
                // ('storage', storage class, key, location, element count)
                guard case .tuple(let t) = id, t.count == 5, case .string("storage") = t[0],
                      case .global("torch", let type) = t[1], let dtype = storageTypes[type], case .string(let key) = t[2]
                else { throw TrainerError.unsupported("\(source): a persistent id other than a tensor storage") }
                guard let entry = zip.entries[prefix + "data/" + key] else {
                    throw TrainerError.badFile("\(path): storage \(key) is missing from the archive")
                }
                return .object(Storage(dtype: dtype, entry: entry))
            },
            reduce: { callable, args in
                switch callable {
                case .global("collections", "OrderedDict"):
                    let d = PickleDict()
                    if case .list(let pairs)? = args.first {
                        for case .tuple(let kv) in pairs.items where kv.count == 2 { d.items.append((kv[0], kv[1])) }
                    }
                    return .dict(d)
                case .global("torch._utils", "_rebuild_tensor_v2"):
                    return .object(TensorBox(try rebuildTensor(args, file: file, source: source)))
                default:
                    throw TrainerError.unsupported("\(source): calling \(callable) is not allowed")
                }
            },
            build: { object, _ in
                // A state dict's OrderedDict carries `_metadata` (module versions) as its state.
                guard case .dict = object else { throw TrainerError.unsupported("\(source): BUILD on something other than a dict") }
            })
        let root = try machine.run()
        guard case .dict(let dict) = root else { throw TrainerError.badFile("\(source): the pickle is not a dict of tensors") }
        var out: [String: StoredTensor] = [:]
        for (key, value) in dict.items {
            guard case .string(let name) = key, case .object(let o) = value, let box = o as? TensorBox else {
                throw TrainerError.unsupported("\(source): entry \(key) is not a tensor")
            }
            out[name] = box.tensor
        }
        return out
    }

    /// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    private static func rebuildTensor(_ args: [PickleValue], file: MappedFile, source: String) throws -> StoredTensor {
        func ints(_ v: PickleValue) -> [Int]? {
            guard case .tuple(let t) = v else { return nil }
            var out: [Int] = []
            for case .int(let i) in t { out.append(i) }
            return out.count == t.count ? out : nil
        }
        guard args.count >= 4, case .object(let o) = args[0], let storage = o as? Storage,
              case .int(let offset) = args[1], let shape = ints(args[2]), let strides = ints(args[3]),
              shape.count == strides.count, offset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 })
        else { throw TrainerError.badFile("\(source): malformed _rebuild_tensor_v2 arguments") }
        let tensor = StoredTensor(file: file, dtype: storage.dtype, shape: shape, strides: strides,
                                  offset: storage.entry.offset + offset * storage.dtype.size)
        guard (offset + tensor.extent) * storage.dtype.size <= storage.entry.size else {
            throw TrainerError.badFile("\(source): a tensor of shape \(shape) reaches past its storage \(storage.entry.name)")
        }
        return tensor
    }
}
