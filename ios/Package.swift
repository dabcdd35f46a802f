// swift-tools-version:5.9
// FengqiaoCore: the Rust phone core for iOS — the UniFFI-generated Swift
// (Sources/FengqiaoCore/FengqiaoCore.swift) over the static library packed in
// FengqiaoCoreFFI.xcframework (device arm64 + simulator arm64/x86_64).
// Both are produced by ./build-xcframework.sh and not committed.
import PackageDescription

let package = Package(
    name: "FengqiaoCore",
    platforms: [.iOS(.v16)],
    products: [
        .library(name: "FengqiaoCore", targets: ["FengqiaoCore"]),
    ],
    targets: [
        // The C interface (header + module map `FengqiaoCoreFFI`) and the static library per platform.
        .binaryTarget(name: "FengqiaoCoreFFI", path: "FengqiaoCoreFFI.xcframework"),
        .target(
            name: "FengqiaoCore",
            dependencies: ["FengqiaoCoreFFI"],
            path: "Sources/FengqiaoCore",
            exclude: ["README.md"],
            linkerSettings: [
                // What the Rust standard library and reqwest/rustls need from the system.
                .linkedFramework("Security"),
                .linkedFramework("SystemConfiguration"),
                .linkedLibrary("resolv"),
            ]
        ),
    ]
)
