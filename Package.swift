// swift-tools-version:6.0
import PackageDescription

// Module boundaries follow docs/DESIGN.md: `Trainer` (the T5 student: CBLAS and its own C
// kernels only) knows nothing about experiments; `Stepwise` (spec, plan, store, stages, data,
// teachers, reports) uses only Trainer's public API; `stepwise` is the thin command line.
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
        // The trainer's hot loops (decoding's packed products and cached attention, GELU,
        // softmax, exponentials) in C, compiled once per instruction set (generic, AVX2 + FMA,
        // AVX-512) with `target` attributes and chosen at run time from cpuid
        // (STEPWISE_TRAINER_ISA=avx512|avx2|generic overrides). No target flag applies to the
        // build as a whole: a binary runs on any CPU of its architecture, fast on the newer ones.
        .target(
            name: "TrainerKernels",
            exclude: ["KernelBodies.h", "KernelTables.h"],
            cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]
        ),
        .target(
            name: "Trainer",
            dependencies: ["CBLAS", "TrainerKernels"],
            exclude: ["README.md"],
            // The trainer's inner loops are ~20x slower at -Onone; tests would crawl. Optimise
            // this one target even in debug builds (unsafeFlags are fine in a root package).
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        .target(
            name: "Stepwise",
            dependencies: [
                "Trainer",
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            plugins: ["EmbedPackagePins"]
        ),
        // Package.resolved's pins, compiled into Stepwise (the report's versions section).
        .executableTarget(name: "PackagePinsTool"),
        .plugin(name: "EmbedPackagePins", capability: .buildTool(), dependencies: ["PackagePinsTool"]),
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
