// swift-tools-version:6.0
// An example of embedding Strobe in your own Swift package. It depends on Strobe as a user's
// package would; here by path to this repository (in yours: `.package(url: …, from: "0.1.0")`).
import PackageDescription

let package = Package(
    name: "StrobeExamples",
    dependencies: [
        .package(name: "Strobe", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "EmbedStrobe",
            dependencies: [.product(name: "Strobe", package: "Strobe")]),
    ]
)
