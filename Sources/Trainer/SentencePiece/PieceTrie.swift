import Foundation

/// A byte trie over the vocabulary's pieces (value = piece id), walked one byte at a time by the
/// Viterbi search: every piece that starts at a position is found in one walk. Children of a node
/// are stored sorted by byte in one flat array; the root, which has a child for almost every
/// first byte, gets a 256-entry table.
struct PieceTrie: Sendable {
    private var rootTable = [Int32](repeating: -1, count: 256)
    private var firstChild: [Int32] = []   // node → index into labels/targets
    private var childCount: [Int32] = []
    private var labels: [UInt8] = []
    private var targets: [Int32] = []
    private(set) var values: [Int32] = []  // node → piece id, -1 if no piece ends here

    static let root: Int32 = 0

    /// `keys` are (UTF-8 bytes, id); when a key repeats, the later id wins.
    init(_ keys: [([UInt8], Int32)]) {
        // Build with per-node dictionaries, then flatten into sorted arrays.
        var children: [[UInt8: Int32]] = [[:]]
        var nodeValues: [Int32] = [-1]
        for (key, id) in keys {
            var node = 0
            for b in key {
                if let next = children[node][b] { node = Int(next); continue }
                let next = Int32(children.count)
                children[node][b] = next
                children.append([:]); nodeValues.append(-1)
                node = Int(next)
            }
            nodeValues[node] = id
        }
        values = nodeValues
        firstChild = [Int32](repeating: 0, count: children.count)
        childCount = [Int32](repeating: 0, count: children.count)
        for (node, kids) in children.enumerated() {
            firstChild[node] = Int32(labels.count)
            childCount[node] = Int32(kids.count)
            for (b, target) in kids.sorted(by: { $0.key < $1.key }) { labels.append(b); targets.append(target) }
        }
        for (b, target) in children[0] { rootTable[Int(b)] = target }
    }

    /// The child of `node` along byte `b`, or -1.
    @inline(__always) func child(_ node: Int32, _ b: UInt8) -> Int32 {
        if node == 0 { return rootTable[Int(b)] }
        var lo = Int(firstChild[Int(node)]), hi = lo + Int(childCount[Int(node)])
        while lo < hi {
            let mid = (lo + hi) >> 1
            let l = labels[mid]
            if l == b { return targets[mid] }
            if l < b { lo = mid + 1 } else { hi = mid }
        }
        return -1
    }

    /// The id of the longest key that prefixes `bytes[start..<end]`, with its length.
    func longestPrefix(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> (length: Int, id: Int32)? {
        var node = Self.root, i = start
        var best: (Int, Int32)? = nil
        while i < end {
            node = child(node, bytes[i])
            if node < 0 { break }
            i += 1
            let v = values[Int(node)]
            if v >= 0 { best = (i - start, v) }
        }
        return best
    }
}
