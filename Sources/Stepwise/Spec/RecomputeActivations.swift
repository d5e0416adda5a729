import Foundation
import Trainer

/// `train.recompute_activations`: whether a train stage keeps every layer's activations for the
/// backward pass or only each layer's input, running the layer's forward again before its
/// backward (`TrainOptions.recomputeActivations`). The trained weights are the same bit for bit
/// either way; only memory and time change (T5-base, batch 16: ~8.8 → ~6 GB, about a third more
/// work in the layers). So it is a train-stage setting, not part of the key: toggling it re-runs
/// nothing, and a cached student serves both.
///
/// `auto` (the default) decides when the stage runs, on the machine that runs it: recompute
/// when a step keeping the activations would need more than half of its physical memory
/// (`TrainingMemory`, at the longest input and target of the stage's own data).
public enum RecomputeActivations: String, Codable, Hashable, Sendable, CaseIterable {
    case auto
    case on = "true"
    case off = "false"

    /// The share of the machine's memory a step may take before `auto` recomputes: the machine
    /// also holds the store, evaluation's decoding buffers and, often, other work.
    public static let autoMemoryShare = 0.5

    /// The decision for one training run, and why (for the stage's status line and `plan`).
    public func decide(config: T5Config, options: TrainOptions, encoderLength: Int, decoderLength: Int,
                       physicalMemory: UInt64 = ProcessInfo.processInfo.physicalMemory) -> (recompute: Bool, reason: String) {
        var keeping = options
        keeping.recomputeActivations = false
        var recomputing = options
        recomputing.recomputeActivations = true
        let kept = TrainingMemory(config: config, options: keeping, encoderLength: encoderLength, decoderLength: decoderLength)
        let recomputed = TrainingMemory(config: config, options: recomputing, encoderLength: encoderLength,
                                        decoderLength: decoderLength)
        let sizes = "a training step ≈ \(Self.size(kept.totalBytes)) keeping the activations, ≈ \(Self.size(recomputed.totalBytes)) recomputing them"
        switch self {
        case .on: return (true, "recompute_activations: true (\(sizes))")
        case .off: return (false, "recompute_activations: false (\(sizes))")
        case .auto:
            let recompute = Double(kept.totalBytes) > Self.autoMemoryShare * Double(physicalMemory)
            return (recompute, "recompute_activations: auto → \(recompute) (\(sizes); this machine has \(Self.size(Int(clamping: physicalMemory))))")
        }
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1_000_000_000 ? String(format: "%.1f GB", Double(bytes) / 1e9) : String(format: "%.0f MB", Double(bytes) / 1e6)
    }

    /// The spec's value: `auto`, or a boolean.
    static func parse(_ written: String) -> RecomputeActivations? {
        if written == Self.auto.rawValue { return .auto }
        return Fields.parseBool(written).map { $0 ? .on : .off }
    }
}
