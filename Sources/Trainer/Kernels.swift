import TrainerKernels

/// The C kernels (Sources/TrainerKernels) for the instruction set chosen at the first use: the
/// best this CPU has, or `STEPWISE_TRAINER_ISA=avx512|avx2|generic`.
let kernels: tk_kernels = tk_active().pointee

/// Which kernels the trainer runs ("avx512", "avx2" or "generic"): chosen once per process from
/// cpuid, or by `STEPWISE_TRAINER_ISA` (which exits with a message if unknown or unsupported).
public var trainerKernelISA: String { String(cString: kernels.name) }

/// The kernels of every instruction set this CPU can run, generic first (for tests that check
/// each against generic).
func availableKernels() -> [tk_kernels] {
    [TK_ISA_GENERIC, TK_ISA_AVX2, TK_ISA_AVX512].compactMap { tk_kernels_for($0)?.pointee }
}
