import Yams

/// Checks of method options that name a student size (an embedded teacher's `teacher_size`),
/// once sizes, methods and sweep are read: such an option has no default, so a swept method
/// must give it; and the teacher must share the tokenizer with every swept size — both trained
/// from scratch (one tokenizer stage) or both pretrained (whose vocabularies are compared once
/// the checkpoints are resolved, `StudentCheckpoints`).
enum TeacherStudentCheck {
    static func run(_ methodsNode: Node?, sweepNode: Node?, student: StudentSpec, methods: [MethodSpec],
                    sweep: SweepSpec, reader: SpecReader) {
        for spec in methods where sweep.methods.contains(spec.name) {
            guard let method = MethodRegistry.named(spec.name) else { continue }
            for option in method.options {
                guard case .size = option.kind else { continue }
                let swept = sweep.optionValues[option.key] != nil
                let values = sweep.optionValues[option.key] ?? spec.options[option.key] ?? option.defaults
                let path = swept ? "sweep.\(option.key)" : "methods.\(spec.name).\(option.key)"
                let valueNodes = swept ? optionNodes(sweepNode, option.key)
                                       : optionNodes(mappingValue(methodsNode, spec.name), option.key)
                guard !values.isEmpty else {
                    reader.fail(mappingValue(methodsNode, spec.name) ?? methodsNode, path,
                                "missing required option `\(option.key)` (\(option.meaning)); declared sizes: "
                                + SpecReader.list(student.sizes.map(\.name)))
                    continue
                }
                for (i, value) in values.enumerated() {
                    guard let teacher = student.size(named: value.plain) else { continue }
                    for name in sweep.sizes {
                        guard let size = student.size(named: name), size.kind != teacher.kind else { continue }
                        reader.fail(i < valueNodes.count ? valueNodes[i] : methodsNode, path,
                                    "the teacher size `\(teacher.name)` is \(describe(teacher.kind)) but the swept size `\(name)` is "
                                    + "\(describe(size.kind)): teacher and student must share the tokenizer (both from scratch, or both "
                                    + "pretrained with one vocabulary)")
                    }
                }
            }
        }
    }

    static func describe(_ kind: StudentKind) -> String { kind == .pretrained ? "pretrained" : "trained from scratch" }

    /// The key and value nodes of `key` in a mapping node (where errors point).
    static func mappingEntry(_ node: Node?, _ key: String) -> (key: Node, value: Node)? {
        guard case .mapping(let mapping)? = node else { return nil }
        for (k, v) in mapping where k.scalar?.string == key { return (k, v) }
        return nil
    }

    /// The value under `key` in a mapping node.
    static func mappingValue(_ node: Node?, _ key: String) -> Node? { mappingEntry(node, key)?.value }

    /// The nodes of an option's values (one scalar, or a list's items), for positions.
    static func optionNodes(_ node: Node?, _ key: String) -> [Node] {
        guard let value = mappingValue(node, key) else { return [] }
        if case .sequence(let items) = value { return Array(items) }
        return [value]
    }
}
