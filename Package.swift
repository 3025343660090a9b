// swift-tools-version:6.0
import PackageDescription

// Dependencies point down only: mlw -> Workbench -> (Lang, Stdlib, Registry, Frames, Tensor) -> CKernels.
// The interpreter's values, closures and native tables are single-threaded by design;
// Swift 5 mode keeps strict-concurrency checking off for those targets.
let v5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

// Release `mlw` links the Swift runtime and Foundation in rather than loading them: the dynamic
// loader spent about two thirds of an empty script's start-up relocating those shared
// libraries. `-static-stdlib` alone leaves Foundation's static archives unresolved (they
// need each other in a cycle), hence the group. SwiftPM's `--static-swift-stdlib` does the
// same but must be typed on every command line. Debug builds link dynamically (quicker).
let staticRuntime = ["-static-stdlib", "-Xlinker", "--start-group",
                     "-lFoundation", "-lCoreFoundation", "-l_FoundationICU", "-lFoundationEssentials",
                     "-lFoundationInternationalization", "-l_FoundationCShims", "-l_FoundationCollections",
                     "-lswiftSynchronization", "-lswiftDispatch", "-ldispatch", "-lBlocksRuntime",
                     "-lswiftCore", "-lswift_Concurrency", "-lswiftGlibc", "-Xlinker", "--end-group"]

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
        // PostgreSQL client (registry store, read_sql), HTML templates (mlw ui), YAML (manifests' tests).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // GNU readline, linked from the system (Debian: libreadline-dev).
        .systemLibrary(name: "CReadline", path: "Sources/CReadline"),
        // Parquet page codecs and SQLite for Frames (Debian: libzstd-dev libsnappy-dev zlib1g-dev libsqlite3-dev).
        .systemLibrary(name: "CCodecs", path: "Sources/CCodecs"),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        // Hand-written SIMD kernels (AVX2/FMA with runtime dispatch and portable fallbacks).
        .target(
            name: "CKernels",
            cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]
        ),
        // The one JSON layer: value, depth-limited parser, writer and string escaper (no dependencies).
        .target(name: "JSON"),
        // The one version string, monotonic clock and seed mixer (no dependencies).
        .target(name: "Support"),
        // Safe file writing (temporary + rename only over regular files; devices, FIFOs and
        // symlinks kept): below every target that writes files.
        .target(name: "FileIO"),
        .target(name: "Tensor", dependencies: ["FileIO", "CKernels", "JSON"]),
        .target(name: "Lang", dependencies: ["FileIO", "JSON", "Support"], swiftSettings: v5),
        // SHA-256 shared by data lineage, the stage cache and the artifact store.
        .target(name: "CChecksum", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "Checksum", dependencies: ["CChecksum"]),
        .target(name: "Frames", dependencies: ["FileIO", "Checksum", "JSON", "Support", "CCodecs", "CSQLite"]),
        // read_sql against PostgreSQL (postgres-nio), apart so Frames stays free of SwiftNIO.
        .target(name: "FramesPostgres", dependencies: ["Frames", .product(name: "PostgresNIO", package: "postgres-nio")]),
        // The graph IR, its op table, executor and autodiff; training on top of it.
        .target(name: "Graph", dependencies: ["Support", "Tensor", "CKernels"], swiftSettings: v5),
        .target(name: "Train", dependencies: ["FileIO", "Support", "Graph", "Tensor"], swiftSettings: v5),
        // Data-parallel training over MPI: Open MPI loaded at run time (dlopen), so mlw runs without it.
        .target(name: "Distributed", dependencies: ["Support", "Train"], swiftSettings: v5),
        // Graph optimizer passes, memory planner, inspection and ONNX export.
        .target(name: "Optimize", dependencies: ["FileIO", "Support", "Graph", "Train", "Compress", "Tensor"], swiftSettings: v5),
        // The tree family: histogram gradient boosting, forests, isolation forests, TreeSHAP.
        .target(name: "Trees", dependencies: ["CKernels", "Graph", "Train", "Tensor"], swiftSettings: v5),
        // Distillation, pruning (CSR storage), int8 quantization, model comparison.
        .target(name: "Compress", dependencies: ["Graph", "Train", "Tensor"], swiftSettings: v5),
        // Classical models fitted by their own algorithms into graphs: linear/logistic regression, k-means, PCA, kNN, naive Bayes.
        .target(name: "Classical", dependencies: ["CKernels", "Support", "Tensor", "Graph", "Train"], swiftSettings: v5),
        // Recommenders: interactions, ALS/BPR/item-kNN/popularity fitted into graphs, top-k, ranking metrics.
        .target(name: "Recommend", dependencies: ["CKernels", "Support", "Tensor", "Graph", "Train"], swiftSettings: v5),
        .target(name: "Registry", dependencies: ["FileIO", "Checksum", "JSON", .product(name: "GRDB", package: "GRDB.swift"),
                                              .product(name: "PostgresNIO", package: "postgres-nio")]),
        // mlw deploy: Kubernetes manifests and Prometheus alerting rules for served models.
        .target(name: "Deploy"),
        // The standard library written in MLW itself, shipped as package resources.
        .target(name: "Stdlib", path: "Stdlib", exclude: ["README.md"], resources: [.copy("std")]),
        // HTTP serving (KServe V2), dynamic batching, metrics; knows models only through ServableModel.
        .target(
            name: "Serve",
            dependencies: [
                "Tensor", "Frames", "Registry", "JSON", "Support",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: v5
        ),
        // The serving adapter for graphs: MLW models (and dense safetensors MLPs) behind Serve's
        // ServableModel protocol, through their CompiledModel; the loader `mlw serve` injects.
        .target(name: "ServeModels", dependencies: ["Serve", "Optimize", "Train", "Graph", "Tensor", "Frames", "Recommend", "Trees"], swiftSettings: v5),
        .target(name: "Workbench", dependencies: ["FileIO", "JSON", "Lang", "Stdlib", "Support", "Tensor", "Frames", "FramesPostgres", "Registry", "Graph", "Train", "Optimize", "Compress", "Serve", "ServeModels", "Classical", "Recommend", "Trees", "Distributed", .product(name: "Hummingbird", package: "hummingbird")], swiftSettings: v5),
        // mlw ui: the registry and a serving server's metrics in a browser (Hummingbird + Mustache templates).
        .target(
            name: "UI",
            dependencies: [
                "Registry", "Workbench", "Optimize", "Train", "Graph", "Support",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: v5
        ),
        .executableTarget(
            name: "mlw",
            dependencies: [
                "Lang", "Workbench", "Registry", "Frames", "Serve", "ServeModels", "Tensor", "CReadline", "UI", "Deploy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: v5,
            linkerSettings: [.unsafeFlags(staticRuntime, .when(configuration: .release))]
        ),
        // Benchmark executables: not part of the product; their sources live beside the drivers
        // in Scripts/bench/ (release builds only, run by those scripts).
        .executableTarget(name: "TensorBench", dependencies: ["Support", "Tensor", "CKernels"], path: "Scripts/bench/swift/TensorBench"),
        .executableTarget(name: "GraphBench", dependencies: ["Optimize", "Train", "Graph", "Tensor", "CKernels"],
                          path: "Scripts/bench/swift/GraphBench", swiftSettings: v5),
        .executableTarget(name: "CompressBench", dependencies: ["Compress", "Optimize", "Train", "Frames", "Tensor"],
                          path: "Scripts/bench/swift/CompressBench", swiftSettings: v5),
        .executableTarget(name: "DataBench", dependencies: ["Frames"], path: "Scripts/bench/swift/DataBench"),
        .executableTarget(name: "RegistryBench", dependencies: ["Support", "Registry"], path: "Scripts/bench/swift/RegistryBench"),
        // libFuzzer targets (Scripts/fuzz/run builds them with -sanitize=fuzzer,address -DFUZZING);
        // a plain build makes the same executable a replay tool for crash inputs.
        .executableTarget(name: "MLWFuzz", dependencies: ["Lang", "Frames", "JSON", "Serve", "Tensor", "Train"],
                          path: "Scripts/fuzz/MLWFuzz", swiftSettings: v5),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "LangTests", dependencies: ["Lang", "JSON"], swiftSettings: v5),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "FramesTests", dependencies: ["FileIO", "Frames", "FramesPostgres"], exclude: ["Python", "Fixtures"]),
        .testTarget(name: "GraphTests", dependencies: ["Graph"], swiftSettings: v5),
        .testTarget(name: "TrainTests", dependencies: ["Train", "Optimize", "Frames"], swiftSettings: v5),
        .testTarget(name: "TreesTests", dependencies: ["Trees", "Optimize", "Train", "Graph", "Tensor", "Serve", "ServeModels"], swiftSettings: v5),
        .testTarget(name: "OptimizeTests", dependencies: ["Optimize", "Train"], swiftSettings: v5),
        .testTarget(name: "CompressTests", dependencies: ["Compress", "Optimize", "Train", "Frames"], swiftSettings: v5),
        .testTarget(name: "RegistryTests", dependencies: ["Registry"]),
        .testTarget(name: "DeployTests", dependencies: ["Deploy", .product(name: "Yams", package: "Yams")]),
        .testTarget(
            name: "ServeTests",
            dependencies: ["Serve", .product(name: "HummingbirdTesting", package: "hummingbird")],
            exclude: ["Python"],
            swiftSettings: v5
        ),
        .testTarget(name: "RecommendTests", dependencies: ["Recommend", "Train", "Optimize", "Graph", "Tensor", "Serve", "ServeModels", "Compress",
                                                     .product(name: "HummingbirdTesting", package: "hummingbird")], swiftSettings: v5),
        .testTarget(name: "ClassicalTests", dependencies: ["Classical", "Train", "Optimize", "Graph", "Tensor", "ServeModels"], swiftSettings: v5),
        .testTarget(name: "UITests", dependencies: ["UI", "Registry", "Workbench", "Graph", "Tensor", "Train", .product(name: "HummingbirdTesting", package: "hummingbird")], swiftSettings: v5),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "Train"], swiftSettings: v5),
        .testTarget(name: "MLWTests", dependencies: ["Lang", "Workbench", "ServeModels", "Registry"], swiftSettings: v5),
    ]
)
