// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Strobe",
    products: [
        .library(name: "Strobe", targets: ["Strobe"]),
        .library(name: "StrobeTensor", targets: ["StrobeTensor"]),
        .library(name: "StrobeBench", targets: ["StrobeBench"]),
        .executable(name: "strobe", targets: ["StrobeCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation --target Strobe` (DocC); a build-time plugin only.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
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

        .executableTarget(
            name: "StrobeCLI",
            dependencies: ["Strobe", "StrobeBench", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        .executableTarget(
            name: "GEMMBenchmark", dependencies: ["StrobeTensor"],
            path: "Benchmarks/GEMMBenchmark"),

        .testTarget(name: "StrobeTensorTests", dependencies: ["StrobeTensor", "StrobeKernels"]),
        .testTarget(name: "StrobeBenchTests", dependencies: ["StrobeBench", "Strobe"]),
        .testTarget(
            name: "StrobeTests", dependencies: ["Strobe"],
            resources: [.copy("Fixtures")]),
    ],
    cxxLanguageStandard: .cxx17
)
