import Yams

/// A method option that weights terms by name (`losses: {ce: 1, kl: 0.5, cosine: 0.1}`), or a
/// list of such mappings to sweep: each name one of `names` (an unknown one is reported with
/// the valid names and the closest), each weight a number ≥ 0, at least one > 0, and at most one
/// name of each `exclusive` group.
enum WeightsOption {
    static func read(_ node: Node?, at path: String, names: [String], exclusive: [[String]], reader: SpecReader) -> [JSONValue]? {
        guard let node else { return nil }
        var items: [(Node, String)] = [(node, path)]
        if case .sequence(let seq) = node {
            items = seq.enumerated().map { ($1, "\(path)[\($0)]") }
            if items.isEmpty { reader.fail(node, path, "expected at least one mapping of weights, found an empty list") }
        }
        var out: [JSONValue] = []
        for (item, itemPath) in items {
            guard let f = reader.fields(item, at: itemPath, allowed: names) else { continue }
            var weights: [String: JSONValue] = [:]
            for name in f.order {
                guard let w = f.double(name) else { continue }
                if w < 0 { reader.fail(f.value(name), f.path(name), "expected a weight ≥ 0, found \(w)"); continue }
                weights[name] = .number(w)
            }
            for group in exclusive where group.filter({ weights[$0] != nil }).count > 1 {
                reader.fail(item, itemPath, "give one of \(SpecReader.list(group)), not several")
            }
            if f.order.isEmpty {
                reader.fail(item, itemPath, "expected weights for some of \(SpecReader.list(names))")
            } else if !weights.isEmpty && weights.values.allSatisfy({ $0 == .number(0) }) {
                reader.fail(item, itemPath, "every weight is 0: nothing would be learned")
            }
            out.append(.object(weights))
        }
        return out
    }
}
