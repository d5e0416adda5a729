import Foundation

/// A byte trie over the vocabulary's pieces (value = piece id), walked one byte at a time by the
/// Viterbi search: every piece that starts at a position is found in one walk. A node's children
/// are stored side by side, sorted by byte, in flat arrays (binary search); the root, which has a
/// child for almost every first byte, also gets a 256-entry table.
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
        // Sorted keys put every node's subtree in one contiguous range, so the trie is built
        // breadth-first with each node's children laid out side by side.
        let order = keys.indices.sorted { a, b in
            keys[a].0.lexicographicallyPrecedes(keys[b].0) || (keys[a].0 == keys[b].0 && a < b)
        }
        values = [-1]
        firstChild = [0]
        childCount = [0]
        var queue: [(node: Int, range: Range<Int>, depth: Int)] = [(0, 0..<order.count, 0)]
        var head = 0
        while head < queue.count {
            let (node, range, depth) = queue[head]
            head += 1
            var i = range.lowerBound
            while i < range.upperBound && keys[order[i]].0.count == depth { values[node] = keys[order[i]].1; i += 1 }
            firstChild[node] = Int32(labels.count)
            while i < range.upperBound {
                let b = keys[order[i]].0[depth]
                var j = i + 1
                while j < range.upperBound && keys[order[j]].0[depth] == b { j += 1 }
                let child = values.count
                values.append(-1); firstChild.append(0); childCount.append(0)
                labels.append(b); targets.append(Int32(child))
                if node == 0 { rootTable[Int(b)] = Int32(child) }
                queue.append((child, i..<j, depth + 1))
                i = j
            }
            childCount[node] = Int32(labels.count) - firstChild[node]
        }
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
