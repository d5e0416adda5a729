import XCTest
@testable import Trainer

/// The kernel-set override: only a fallback set is replaced, and only by one the CPU can run.
final class BLASKernelsTests: XCTestCase {
    let avx512: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    func testFallbackKernelsAreReplacedByTheBestTheCPUSupports() {
        XCTAssertEqual(BLASKernels.betterCore(current: "Prescott", cpuFlags: avx512), "SkylakeX")
        XCTAssertEqual(BLASKernels.betterCore(current: "Sandybridge", cpuFlags: ["avx", "avx2", "fma"]), "Haswell")
        // AVX-512 without all of SkylakeX's subsets is only good for Haswell's kernels.
        XCTAssertEqual(BLASKernels.betterCore(current: "Nehalem", cpuFlags: ["avx2", "fma", "avx512f"]), "Haswell")
    }

    func testDeliberateChoicesAndOldCPUsAreLeftAlone() {
        XCTAssertNil(BLASKernels.betterCore(current: "Haswell", cpuFlags: avx512))
        XCTAssertNil(BLASKernels.betterCore(current: "Zen", cpuFlags: avx512))
        XCTAssertNil(BLASKernels.betterCore(current: "Prescott", cpuFlags: ["sse3", "avx"]))
        XCTAssertNil(BLASKernels.betterCore(current: "Prescott", cpuFlags: []))
    }

    func testCPUFlagsAreReadFromTheFirstProcessor() {
        let cpuinfo = """
            processor\t: 0
            model name\t: Some CPU
            flags\t\t: fpu sse3 avx2 fma
            processor\t: 1
            flags\t\t: fpu
            """
        XCTAssertEqual(BLASKernels.cpuFlags(cpuinfo: cpuinfo), ["fpu", "sse3", "avx2", "fma"])
        XCTAssertEqual(BLASKernels.cpuFlags(cpuinfo: nil), [])
        XCTAssertFalse(BLASKernels.coreName.isEmpty)
    }
}
