// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
]

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
            ]
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
