// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Strobe",
    products: [
        .library(name: "Strobe", targets: ["Strobe"]),
        .library(name: "StrobeTensor", targets: ["StrobeTensor"]),
        .library(name: "StrobeBench", targets: ["StrobeBench"]),
        .library(name: "StrobeServer", targets: ["StrobeServer"]),
        .executable(name: "strobe", targets: ["StrobeCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation --target Strobe` (DocC); a build-time plugin only.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
        // `strobe serve`: HTTP server, request logs, Prometheus metrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // System libraries (Debian packages, found through pkg-config).
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CSentencePiece", pkgConfig: "sentencepiece",
            providers: [.apt(["libsentencepiece-dev"])]),
        .systemLibrary(
            name: "CJPEG", pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(
            name: "CSTB", pkgConfig: "stb",
            providers: [.apt(["libstb-dev"])]),

        // Small C/C++ shims with C APIs.
        .target(name: "StrobeBLAS", dependencies: ["CBLAS", "StrobeKernels"]),
        .target(name: "StrobeKernels"),
        .target(name: "PNGShim", dependencies: ["CPNG"]),
        .target(name: "SentencePieceShim", dependencies: ["CSentencePiece"]),
        .target(name: "ImageInputShim", dependencies: ["CJPEG", "CSTB"]),

        // Tensor core: no model knowledge.
        .target(name: "StrobeTensor", dependencies: ["StrobeBLAS", "StrobeKernels"]),

        // The engine library.
        .target(name: "Strobe", dependencies: ["StrobeTensor", "CPNG", "PNGShim", "SentencePieceShim", "ImageInputShim"]),

        // The measurements of `strobe bench`.
        .target(name: "StrobeBench", dependencies: ["Strobe", "StrobeTensor"]),

        // `strobe serve`: the OpenAI-compatible HTTP server and its web page.
        .target(
            name: "StrobeServer",
            dependencies: [
                "Strobe",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            resources: [.embedInCode("Web/index.html"), .embedInCode("Web/app.js"), .embedInCode("Web/style.css")]),

        .executableTarget(
            name: "StrobeCLI",
            dependencies: [
                "Strobe", "StrobeBench", "StrobeServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .executableTarget(
            name: "GEMMBenchmark", dependencies: ["StrobeTensor"],
            path: "Benchmarks/GEMMBenchmark"),
        .executableTarget(
            name: "AutoencoderBenchmark", dependencies: ["Strobe", "StrobeTensor"],
            path: "Benchmarks/AutoencoderBenchmark"),

        .testTarget(
            name: "StrobeTensorTests", dependencies: ["StrobeTensor", "StrobeKernels"],
            resources: [.copy("Fixtures")]),
        .testTarget(name: "StrobeBenchTests", dependencies: ["StrobeBench", "Strobe"]),
        .testTarget(
            name: "StrobeServerTests",
            dependencies: ["StrobeServer", "Strobe", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "StrobeTests", dependencies: ["Strobe"],
            resources: [.copy("Fixtures")]),
    ],
    cxxLanguageStandard: .cxx17
)
