import Yams

/// Options that act only through some terms of a weights option (`MethodOption.actsThrough`),
/// checked once methods and sweep are read: `hidden_layers` given while no value of `losses`
/// (the method's, or the sweep's when it sweeps `losses`) has a `cosine` or `mse` term would
/// change the key and nothing else, so it is an error at the option's key.
enum OptionTermCheck {
    static func run(_ methodsNode: Node?, methods: [MethodSpec], sweep: SweepSpec, reader: SpecReader) {
        for spec in methods {
            guard let method = MethodRegistry.named(spec.name) else { continue }
            for option in method.options {
                guard let through = option.actsThrough, spec.options[option.key] != nil else { continue }
                let weights = sweep.optionValues[through.option] ?? spec.options[through.option] ?? []
                let named = weights.contains { value in
                    if case .object(let w) = value { return through.terms.contains { w[$0] != nil } }
                    return false
                }
                guard !named else { continue }
                let terms = through.terms.map { "`\($0)`" }.joined(separator: " or ")
                let methodNode = TeacherStudentCheck.mappingValue(methodsNode, spec.name)
                reader.fail(TeacherStudentCheck.mappingEntry(methodNode, option.key)?.key ?? methodsNode,
                            "methods.\(spec.name).\(option.key)",
                            "`\(option.key)` acts only through a \(terms) term of `\(through.option)`, and no value of `\(through.option)` "
                            + "has one: add one (e.g. `\(through.option): {ce: 1, kl: 0.5, \(through.terms[0]): 0.1}`) or remove `\(option.key)`")
            }
        }
    }
}
