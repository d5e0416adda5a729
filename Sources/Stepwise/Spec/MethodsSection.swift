import Yams

/// `methods:` — the rows of the comparison, each a method of `MethodRegistry` with its options.
enum MethodsSection {
    static func read(_ node: Node, reader: SpecReader, teacher: TeacherSpec?, student: StudentSpec?) -> [MethodSpec]? {
        let sizes = student?.sizes.map(\.name)
        let names = MethodRegistry.names
        guard let f = reader.fields(node, at: "methods", allowed: names) else { return nil }
        if f.order.isEmpty { reader.fail(node, "methods", "expected at least one method; valid: \(SpecReader.list(names))") }
        var out: [MethodSpec] = []
        for name in f.order {
            let method = MethodRegistry.named(name)!
            var spec = MethodSpec(name: name, options: [:])
            let value = f.value(name)!
            let isEmpty: Bool = {
                if case .scalar(let s) = value { return s.string.isEmpty || s.string == "null" || s.string == "~" }
                return false
            }()
            let options = MethodRegistry.options(of: method)
            if !isEmpty, let opts = reader.fields(value, at: f.path(name), allowed: options.map(\.key)) {
                for option in options {
                    if let values = OptionValues.read(option, from: opts, reader: reader, sizes: sizes) {
                        spec.options[option.key] = values
                        GeneratedData.checkTeacher(option, values, teacher: teacher, node: opts.value(option.key),
                                                   path: opts.path(option.key), reader: reader)
                    }
                    if let other = option.yieldsTo, opts.has(other), opts.has(option.key) {
                        reader.fail(opts.keyNode(option.key), opts.path(option.key),
                                    "`\(option.key)` does not apply when `\(other)` is given (\(other) sets every term's weight); write one of them")
                    }
                }
            }
            out.append(spec)
        }
        return out
    }
}

/// Reads and checks one method option's values (a scalar or a list), by the option's kind.
enum OptionValues {
    /// A mapping option (`synthetic: {per_example: 2}`) is read from inside its one-key mapping.
    /// `sizes`: the declared student sizes (nil when the student section did not read).
    static func read(_ option: MethodOption, from f: Fields, reader: SpecReader, sizes: [String]?) -> [JSONValue]? {
        guard let field = option.field else { return readPlain(option, from: f, reader: reader, sizes: sizes) }
        guard let node = f.value(option.key),
              let inner = reader.fields(node, at: f.path(option.key), allowed: [field]) else { return nil }
        guard inner.has(field) else {
            reader.fail(node, inner.path(field), "missing required key `\(field)` (\(option.meaning))")
            return nil
        }
        var plain = option
        plain.key = field
        return readPlain(plain, from: inner, reader: reader, sizes: sizes)
    }

    static func readPlain(_ option: MethodOption, from f: Fields, reader: SpecReader, sizes: [String]?) -> [JSONValue]? {
        let path = f.path(option.key)
        switch option.kind {
        case .weights(let names, let exclusive):
            return WeightsOption.read(f.value(option.key), at: path, names: names, exclusive: exclusive, reader: reader)
        case .size:
            guard let values = f.scalarList(option.key) else { return nil }
            for (n, v) in values where sizes.map({ !$0.contains(v) }) ?? false {
                reader.fail(n, path, "size `\(v)` is not declared under student.sizes (declared: \(SpecReader.list(sizes ?? [])))",
                            suggestion: Suggestion.closest(to: v, among: sizes ?? []))
            }
            return SweepSection.unique(values, at: path, reader: reader).map { .string($0) }
        case .number(let minimum, let maximum, let exclusive, let integer):
            guard let values = f.doubleList(option.key) else { return nil }
            for (n, v) in values {
                if exclusive ? v <= minimum : v < minimum {
                    reader.fail(n, path, "expected \(option.meaning) \(exclusive ? ">" : "≥") \(JSONValue.format(minimum)), found \(v)")
                } else if v > maximum {
                    reader.fail(n, path, "expected \(option.meaning) ≤ \(JSONValue.format(maximum)), found \(v)")
                } else if integer && v.rounded() != v {
                    reader.fail(n, path, "expected \(option.meaning) as a whole number, found \(v)")
                }
            }
            return SweepSection.unique(values, at: path, reader: reader).map { .number($0) }
        case .choice(let choices):
            guard let values = f.scalarList(option.key) else { return nil }
            for (n, v) in values where !choices.contains(v) {
                reader.fail(n, path, "unknown value `\(v)` for \(option.meaning); expected one of \(SpecReader.list(choices))",
                            suggestion: Suggestion.closest(to: v, among: choices))
            }
            return SweepSection.unique(values, at: path, reader: reader).map { .string($0) }
        }
    }
}

/// `sweep:` — the axes whose product is the set of trained cells.
enum SweepSection {
    static var keys: [String] { ["data_fraction", "size", "method", "seed"] + MethodRegistry.optionKeys }

    static func read(_ node: Node?, reader: SpecReader, student: StudentSpec?, methods: [MethodSpec]?, train: TrainSpec?,
                     teacher: TeacherSpec?) -> SweepSpec? {
        let declaredSizes = student?.sizes.map(\.name) ?? []
        let declaredMethods = methods?.map(\.name) ?? []
        var sweep = SweepSpec(dataFractions: [1.0], sizes: declaredSizes, methods: declaredMethods, optionValues: [:],
                              seeds: train?.seeds ?? [0])
        guard let node else { return sweep }
        guard let f = reader.fields(node, at: "sweep", allowed: keys) else { return nil }
        if let fractions = f.doubleList("data_fraction") {
            for (n, v) in fractions where !(v > 0 && v <= 1) {
                reader.fail(n, f.path("data_fraction"), "expected a fraction in (0, 1], found \(v) (write 12.5 % as 0.125)")
            }
            sweep.dataFractions = unique(fractions, at: f.path("data_fraction"), reader: reader)
        }
        if let sizes = f.scalarList("size") {
            for (n, s) in sizes where !declaredSizes.contains(s) {
                reader.fail(n, f.path("size"), "size `\(s)` is not declared under student.sizes (declared: \(SpecReader.list(declaredSizes)))",
                            suggestion: Suggestion.closest(to: s, among: declaredSizes))
            }
            sweep.sizes = unique(sizes, at: f.path("size"), reader: reader)
        }
        if let ms = f.scalarList("method") {
            var names: [String] = []
            for (n, s) in ms {
                if declaredMethods.contains(s) { names.append(s); continue }
                let known = MethodRegistry.named(s) != nil
                reader.fail(n, f.path("method"), known ? "method `\(s)` is not declared under methods"
                                                      : "unknown method `\(s)`; expected one of \(SpecReader.list(declaredMethods))",
                            suggestion: Suggestion.closest(to: s, among: declaredMethods))
            }
            sweep.methods = names
        }
        // A swept option takes the place of the methods' own values for it; its values are
        // checked by the first registered method that declares it.
        for key in MethodRegistry.optionKeys where f.has(key) {
            guard let option = MethodRegistry.option(named: key) else { continue }
            if let values = OptionValues.read(option, from: f, reader: reader, sizes: student?.sizes.map(\.name)) {
                sweep.optionValues[key] = values
                GeneratedData.checkTeacher(option, values, teacher: teacher, node: f.value(key), path: f.path(key), reader: reader)
            }
        }
        if let seeds = f.intList("seed") { sweep.seeds = unique(seeds, at: f.path("seed"), reader: reader) }
        return sweep
    }

    /// Sweep values must be distinct: a repeated seed or fraction would silently count twice in a mean.
    static func unique<T: Hashable>(_ values: [(Node, T)], at path: String, reader: SpecReader) -> [T] {
        var seen = Set<T>(), out: [T] = []
        for (n, v) in values {
            if seen.insert(v).inserted { out.append(v) } else { reader.fail(n, path, "duplicate value `\(v)`") }
        }
        return out
    }
}
