import Foundation

/// What the trainer and the pipeline need from a tokenizer, so they can take either Stepwise's own
/// BPE `Tokenizer` (trained on the task's texts) or a pretrained checkpoint's
/// `SentencePieceTokenizer`.
public protocol TextTokenizer: AnyObject {
    /// Token ids of `text`, optionally followed by the end-of-sequence id.
    func encode(_ text: String, appendEOS: Bool) -> [Int32]
    /// Text of `ids`; padding, end-of-sequence and other control ids are dropped.
    func decode(_ ids: [Int32]) -> String
    /// The number of ids (the embedding needs at least this many rows).
    var vocabularySize: Int { get }
    var padId: Int32 { get }
    var eosId: Int32 { get }
}

extension Tokenizer: TextTokenizer {
    public var padId: Int32 { SpecialTokens.pad }
    public var eosId: Int32 { SpecialTokens.eos }
}
