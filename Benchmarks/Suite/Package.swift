// swift-tools-version:6.1
// Strobe's package-benchmark suite (ordo-one/benchmark). A separate package, so that building
// and testing Strobe itself never fetches the benchmark dependency. Run from this directory:
//
//     swift package --disable-sandbox benchmark
//
// (ordo-one/benchmark needs swift-tools-version 6.1 and the MallocInterposer trait.)
import PackageDescription

let package = Package(
    name: "StrobeBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
        .package(name: "Strobe", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "StrobeBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Strobe", package: "Strobe"),
                .product(name: "StrobeTensor", package: "Strobe"),
                .product(name: "StrobeBench", package: "Strobe"),
            ],
            path: "Benchmarks/StrobeBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ]
)
