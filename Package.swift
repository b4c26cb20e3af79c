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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
            name: "SlipwayCLI",
            dependencies: [
                "SlipwayInference",
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
            name: "SlipwayCLITests",
            dependencies: ["SlipwayCLI", "SlipwayInference"],
            swiftSettings: swiftSettings
        ),
    ]
)
