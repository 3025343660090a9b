// swift-tools-version:6.0
import PackageDescription

// Dependencies point down only: mlw -> Workbench -> (Lang, Stdlib, Registry, Frames, Tensor) -> CKernels.
// The interpreter's values, closures and native tables are single-threaded by design;
// Swift 5 mode keeps strict-concurrency checking off for those targets.
let v5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

let package = Package(
    name: "mlw",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mlw", targets: ["mlw"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // GNU readline, linked from the system (Debian: libreadline-dev).
        .systemLibrary(name: "CReadline", path: "Sources/CReadline"),
        // Hand-written SIMD kernels (AVX2/FMA with runtime dispatch and portable fallbacks).
        .target(
            name: "CKernels",
            cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]
        ),
        .target(name: "Tensor", dependencies: ["CKernels"]),
        // Speed benchmark of the tensor engine, driven by Scripts/bench/tensor (release builds only).
        .executableTarget(name: "TensorBench", dependencies: ["Tensor"]),
        .target(name: "Lang", swiftSettings: v5),
        // SHA-256 shared by data lineage, the stage cache and the artifact store.
        .target(name: "CChecksum", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "Checksum", dependencies: ["CChecksum"]),
        .target(name: "Frames", dependencies: ["Checksum"]),
        // The graph IR, its op table, executor and autodiff; training on top of it.
        .target(name: "Graph", dependencies: ["Tensor"], swiftSettings: v5),
        .target(name: "Train", dependencies: ["Graph", "Tensor"], swiftSettings: v5),
        // Graph optimizer passes, memory planner, inspection and ONNX export.
        .target(name: "Optimize", dependencies: ["Graph", "Train", "Tensor"], swiftSettings: v5),
        // Latency benchmark of the graph optimizer, driven by Scripts/bench/graph/run (release builds only).
        .executableTarget(name: "GraphBench", dependencies: ["Optimize", "Train", "Graph", "Tensor"], swiftSettings: v5),
        // Distillation, pruning (CSR storage), int8 quantization, model comparison.
        .target(name: "Compress", dependencies: ["Graph", "Train", "Optimize", "Tensor"], swiftSettings: v5),
        // Compression benchmark on digits, driven by Scripts/bench/compress/run (release builds only).
        .executableTarget(name: "CompressBench", dependencies: ["Compress", "Optimize", "Train", "Frames", "Tensor"], swiftSettings: v5),
        .target(name: "Registry", dependencies: ["Checksum", .product(name: "GRDB", package: "GRDB.swift")]),
        // The standard library written in MLW itself, shipped as package resources.
        .target(name: "Stdlib", path: "Stdlib", exclude: ["README.md"], resources: [.copy("std")]),
        // HTTP serving (KServe V2), dynamic batching, metrics; knows models only through ServableModel.
        .target(
            name: "Serve",
            dependencies: [
                "Tensor", "Frames", "Registry",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: v5
        ),
        .target(name: "Workbench", dependencies: ["Lang", "Stdlib", "Tensor", "Frames", "Registry", "Graph", "Train", "Optimize", "Compress", "Serve", .product(name: "Hummingbird", package: "hummingbird")], swiftSettings: v5),
        .executableTarget(
            name: "mlw",
            dependencies: [
                "Lang", "Workbench", "Registry", "Frames", "Serve", "Tensor", "CReadline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: v5
        ),
        .testTarget(name: "LangTests", dependencies: ["Lang"], swiftSettings: v5),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "FramesTests", dependencies: ["Frames"]),
        .testTarget(name: "GraphTests", dependencies: ["Graph"], swiftSettings: v5),
        .testTarget(name: "TrainTests", dependencies: ["Train", "Optimize", "Frames"], swiftSettings: v5),
        .testTarget(name: "OptimizeTests", dependencies: ["Optimize", "Train"], swiftSettings: v5),
        .testTarget(name: "CompressTests", dependencies: ["Compress", "Optimize", "Train", "Frames"], swiftSettings: v5),
        .testTarget(name: "RegistryTests", dependencies: ["Registry"]),
        .testTarget(
            name: "ServeTests",
            dependencies: ["Serve", .product(name: "HummingbirdTesting", package: "hummingbird")],
            exclude: ["Python"],
            swiftSettings: v5
        ),
        .testTarget(name: "MLWTests", dependencies: ["Lang", "Workbench", "Registry"], swiftSettings: v5),
    ]
)
