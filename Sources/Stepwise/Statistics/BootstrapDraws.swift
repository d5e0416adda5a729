/// Uniform draws for the bootstrap from Stepwise's one deterministic generator (`SeededRandom`,
/// SplitMix64), so an interval depends on nothing but its inputs and the generator's seed — not
/// on the platform, the Swift version, or `SystemRandomNumberGenerator`.
extension SeededRandom {
    /// A uniform index in `0..<bound` by Lemire's multiply-and-reject method: the high word of
    /// `next() × bound`, redrawing the rare low words that would bias it. It needs a division
    /// only in that rare case, where `SeededRandom.int(below:)` divides on every draw; the
    /// bootstrap makes tens of millions of draws.
    @inline(__always)
    mutating func index(below bound: Int) -> Int {
        let b = UInt64(bound)
        var product = next().multipliedFullWidth(by: b)
        if product.low < b {
            let threshold = (0 &- b) % b
            while product.low < threshold {
                product = next().multipliedFullWidth(by: b)
            }
        }
        return Int(product.high)
    }
}
