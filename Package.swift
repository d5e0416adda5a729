// swift-tools-version:6.0
import PackageDescription
import Foundation

/// The trainer's elementwise loops are written with SIMD8<Float>; with AVX2 + FMA each SIMD8
/// operation is one instruction instead of two SSE ones (measured: best step of the quickstart
/// student 137 → 120 ms). Decoding's small matrix products use our own kernel
/// (Sources/Trainer/PackedLinear.swift), whose tile shape depends on the vector registers:
/// TRAINER_AVX512 (32 registers of 16 floats) or TRAINER_AVX2 (16 of 8). Enabled only when the
/// building machine has them, like -march=native, so the build never produces a binary its own
/// machine cannot run. STEPWISE_TRAINER_ISA=avx512|avx2|generic overrides the detection (to test
/// the other kernels' code paths on one machine).
let trainerCPUFlags: [String] = {
    var isa = ProcessInfo.processInfo.environment["STEPWISE_TRAINER_ISA"]
    #if arch(x86_64) && os(Linux)
    if isa == nil {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let line = info.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        let flags = Set(line.split(separator: " ").map(String.init))
        isa = flags.isSuperset(of: ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "fma"]) ? "avx512"
            : flags.isSuperset(of: ["avx2", "fma"]) ? "avx2" : "generic"
    }
    #endif
    switch isa {
    case "avx512": return ["-target-cpu", "skylake-avx512", "-DTRAINER_AVX512"]
    case "avx2": return ["-target-cpu", "haswell", "-DTRAINER_AVX2"]
    default: return []
    }
}()

// Module boundaries follow docs/DESIGN.md: `Trainer` (the T5 student, CBLAS only) knows nothing
// about experiments; `Stepwise` (spec, plan, store, stages, data, teachers, reports) uses only
// Trainer's public API; `stepwise` is the thin command line.
let package = Package(
    name: "Stepwise",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "stepwise", targets: ["stepwise"]),
        .library(name: "Stepwise", targets: ["Stepwise"]),
        .library(name: "Trainer", targets: ["Trainer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "Trainer",
            dependencies: ["CBLAS"],
            exclude: ["README.md"],
            // The trainer's inner loops are ~20x slower at -Onone; tests would crawl. Optimise
            // this one target even in debug builds (unsafeFlags are fine in a root package).
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug)), .unsafeFlags(trainerCPUFlags)]
        ),
        .target(
            name: "Stepwise",
            dependencies: [
                "Trainer",
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "stepwise",
            dependencies: [
                "Stepwise", "Trainer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Fixtures are read from the source tree by path (#filePath), not bundled.
        .testTarget(name: "StepwiseTests", dependencies: ["Stepwise", "Trainer"], exclude: ["Fixtures"]),
        .testTarget(name: "TrainerTests", dependencies: ["Trainer"], exclude: ["parity"]),
    ],
    swiftLanguageModes: [.v5]
)
