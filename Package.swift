// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
]

#if arch(x86_64)
// Release builds of the engine target Haswell-class x86-64 (x86-64-v3: AVX, AVX2, FMA, BMI; the Swift frontend does
// not accept the name `x86-64-v3`, so the equivalent `haswell` is used). The float32 matrix kernels' 8-wide panels
// then run in one AVX register instead of two SSE halves, and the 4x16 register block fits in the 16 registers: when
// this was added, a 1,000-row breast_cancer_mlp call took 180 µs with this target and 300 µs at best with the
// default x86-64 one (430 µs with the 4x16 block, which spills there), against 280 µs for ONNX Runtime. Release binaries therefore
// need an x86-64-v3 CPU (Intel Haswell, 2013, AMD Excavator, 2015, or later); debug builds keep the default target.
let inferenceCPUFlags: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "haswell"], .when(configuration: .release))
]
#else
let inferenceCPUFlags: [SwiftSetting] = []
#endif

let package = Package(
    name: "slipway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "slipway", targets: ["slipway"]),
        .library(name: "SlipwayInference", targets: ["SlipwayInference"]),
        .library(name: "SlipwayFormats", targets: ["SlipwayFormats"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(
            url: "https://github.com/hummingbird-project/hummingbird",
            from: "2.28.1",
            traits: ["ConfigurationSupport"]
        ),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/vapor/sql-kit", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit", from: "2.17.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // MARK: Targets
        .target(
            name: "SlipwayInference",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            // Release builds skip dynamic exclusivity checks: the generated protobuf decoders access class
            // storage per field, and the checks took a quarter of model loading time. Debug builds keep them.
            swiftSettings: swiftSettings + [
                .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
            ] + inferenceCPUFlags
        ),
        .target(
            name: "SlipwayFormats",
            dependencies: [
                "SlipwayInference",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        // Experiment statistics (z/t tests, confidence intervals, MDE) and rollout guardrails: pure logic, no I/O.
        .target(
            name: "SlipwayExperiments",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayRegistry",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayStorage",
            dependencies: [
                "SlipwayRegistry",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayRuntime",
            dependencies: [
                "SlipwayInference",
                "SlipwayRegistry",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Batch scoring jobs: reads CSV/JSONL files, scores them chunk by chunk, writes result and error files.
        .target(
            name: "SlipwayBatch",
            dependencies: [
                "SlipwayInference",
                "SlipwayRegistry",
                "SlipwayRuntime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayMonitoring",
            dependencies: [
                "SlipwayInference",
                "SlipwayRegistry",
                "SlipwayRuntime",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayAPI",
            dependencies: [
                "SlipwayRegistry",
                "SlipwayRuntime",
                "SlipwayBatch",
                "SlipwayInference",
                "SlipwayFormats",
                "SlipwayMonitoring",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayConsole",
            dependencies: [
                "SlipwayRegistry",
                "SlipwayRuntime",
                "SlipwayAPI",
                "SlipwayMonitoring",
                "SlipwayFeedback",
                "SlipwayTraffic",
                "SlipwayExperiments",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayMetrics",
            dependencies: [
                "SlipwayRegistry",
                "SlipwayRuntime",
                "SlipwayAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayFeedback",
            dependencies: [
                "SlipwayRegistry",
                "SlipwayRuntime",
                "SlipwayAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayTraffic",
            dependencies: [
                "SlipwayRegistry",
                "SlipwayRuntime",
                "SlipwayAPI",
                "SlipwayFeedback",
                "SlipwayExperiments",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayServer",
            dependencies: [
                "SlipwayRegistry",
                "SlipwayStorage",
                "SlipwayRuntime",
                "SlipwayAPI",
                "SlipwayFeedback",
                "SlipwayConsole",
                "SlipwayMetrics",
                "SlipwayMonitoring",
                "SlipwayBatch",
                "SlipwayTraffic",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SlipwayCLI",
            dependencies: [
                "SlipwayBatch",
                "SlipwayExperiments",
                "SlipwayInference",
                "SlipwayRegistry",
                "SlipwayServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "slipway",
            dependencies: ["SlipwayCLI"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "SlipwayLoaderFuzzer",
            dependencies: ["SlipwayInference"],
            path: "Fuzz/SlipwayLoaderFuzzer",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .testTarget(
            name: "SlipwayInferenceTests",
            dependencies: ["SlipwayInference"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayFormatsTests",
            dependencies: ["SlipwayFormats", "SlipwayInference"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayExperimentsTests",
            dependencies: ["SlipwayExperiments"],
            // The script that printed the scipy reference values pasted into the tests.
            exclude: ["scipy_reference.py"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayRegistryTests",
            dependencies: ["SlipwayRegistry"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayTrafficTests",
            dependencies: [
                "SlipwayTraffic",
                "SlipwayRegistry",
                "SlipwayStorage",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayStorageTests",
            dependencies: ["SlipwayRegistry", "SlipwayStorage"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayRuntimeTests",
            dependencies: [
                "SlipwayInference",
                "SlipwayRegistry",
                "SlipwayRuntime",
                "SlipwayStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayMonitoringTests",
            dependencies: [
                "SlipwayInference",
                "SlipwayRegistry",
                "SlipwayRuntime",
                "SlipwayStorage",
                "SlipwayMonitoring",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayBatchTests",
            dependencies: [
                "SlipwayBatch",
                "SlipwayInference",
                "SlipwayRegistry",
                "SlipwayRuntime",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayAPITests",
            dependencies: [
                "SlipwayRegistry",
                "SlipwayStorage",
                "SlipwayAPI",
                "SlipwayConsole",
                "SlipwayTraffic",
                "SlipwayBatch",
                "SlipwayServer",
                "SlipwayMetrics",
                "SlipwayMonitoring",
                "SlipwayFeedback",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayMetricsTests",
            dependencies: [
                "SlipwayMetrics",
                "SlipwayRuntime",
                "SlipwayRegistry",
                "SlipwayServer",
                "SlipwayAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayServerTests",
            dependencies: [
                "SlipwayRegistry",
                "SlipwayServer",
                "SlipwayMetrics",
                "SlipwayFeedback",
                "SlipwayStorage",
                "SlipwayAPI",
                "SlipwayRuntime",
                "SlipwayMonitoring",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayFeedbackTests",
            dependencies: [
                "SlipwayRegistry",
                "SlipwayStorage",
                "SlipwayRuntime",
                "SlipwayAPI",
                "SlipwayFeedback",
                "SlipwayServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlipwayCLITests",
            dependencies: [
                "SlipwayCLI",
                "SlipwayInference",
                "SlipwayRegistry",
                "SlipwayServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
