import CBLAS
import Foundation

/// Which of OpenBLAS's CPU-specific kernel sets is in use, and a fix for when it is the wrong one.
///
/// Debian's OpenBLAS (0.3.21 in bookworm) is built with DYNAMIC_ARCH: when the library loads it
/// picks a kernel set from the CPU's model number. CPUs newer than the library are not in its
/// table, and on some of them it falls back to its oldest x86-64 set, "Prescott" (SSE3). On this
/// project's 2-core AVX-512 build VM that made sgemm 3.4× slower than the AVX-512 "SkylakeX"
/// kernels (61 vs 206 GFLOP/s, 2048×256·256×256, 2 threads) and the trainer slower than PyTorch.
/// OpenBLAS honours OPENBLAS_CORETYPE, but only while it loads, i.e. before `main` runs; so the
/// CLI re-executes itself once with the variable set (`reexecWithBetterKernelsIfNeeded`).
public enum BLASKernels {
    /// OpenBLAS's name for the kernel set it loaded, e.g. "Haswell", "SkylakeX", "Prescott".
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// Kernel sets OpenBLAS falls back to for CPUs it does not recognise; anything else is a
    /// deliberate choice of the library and is left alone.
    static let fallbackCores: Set<String> = [
        "prescott", "core2", "penryn", "dunnington", "nehalem", "sandybridge", "atom", "katmai",
        "coppermine", "northwood", "banias", "unknown",
    ]

    /// The kernel set to ask for instead of `current`, or nil to keep it. Only replaces a fallback
    /// set, and only with one whose instructions the CPU (as the kernel reports in /proc/cpuinfo,
    /// which omits AVX-512 when the OS does not save its registers) supports.
    public static func betterCore(current: String, cpuFlags: Set<String>) -> String? {
        guard fallbackCores.contains(current.lowercased()) else { return nil }
        if cpuFlags.isSuperset(of: ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]) { return "SkylakeX" }
        if cpuFlags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// The flags of the first processor in /proc/cpuinfo (empty where that file does not exist).
    public static func cpuFlags(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> Set<String> {
        guard let line = cpuinfo?.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// When OpenBLAS loaded a fallback kernel set on a CPU that can run a better one, re-executes
    /// this program with OPENBLAS_CORETYPE set to it (same arguments, same environment otherwise).
    /// Does nothing when the user set OPENBLAS_CORETYPE (their choice wins, and it stops a loop),
    /// and carries on with the slower kernels if the re-exec fails.
    public static func reexecWithBetterKernelsIfNeeded() {
        guard getenv("OPENBLAS_CORETYPE") == nil,
              let better = betterCore(current: coreName, cpuFlags: cpuFlags()) else { return }
        setenv("OPENBLAS_CORETYPE", better, 1)
        // The real path rather than /proc/self/exe, so the process keeps its name in ps and perf.
        var path = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &path, path.count - 1)
        execv(n > 0 ? path : Array("/proc/self/exe".utf8CString), CommandLine.unsafeArgv)
        FileHandle.standardError.write(Data("stepwise: could not restart with OpenBLAS's \(better) kernels (\(String(cString: strerror(errno)))); continuing with \(coreName)\n".utf8))
    }
}
