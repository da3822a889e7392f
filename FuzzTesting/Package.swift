// swift-tools-version:6.0
// libFuzzer targets for Strobe's parsers of untrusted bytes. A separate package, so that the
// root package's `swift build` and `swift test` never see them; `scripts/fuzz` builds and runs
// them (see docs/reliability.md, "Fuzzing" and "Sanitizers").
import PackageDescription

/// SwiftPM names a path dependency after its folder (lowercased, without a `.git` suffix), so the
/// root package's identity is the name of the folder this repository was cloned into.
let strobe: String = {
    let folder = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "strobe").lowercased()
    return folder.hasSuffix(".git") ? String(folder.dropLast(4)) : folder
}()

let package = Package(
    name: "StrobeFuzz",
    dependencies: [
        .package(path: ".."),
    ],
    targets: [
        // The strict weights reader: container, metadata, architecture, tensors, tokenizer.
        .executableTarget(
            name: "FuzzWeights",
            dependencies: [
                .product(name: "Strobe", package: strobe),
                .product(name: "StrobeTensor", package: strobe),
            ]),
        // The PNG reader: libpng through the C shim, then the Swift conversion.
        .executableTarget(
            name: "FuzzPNG", dependencies: [.product(name: "Strobe", package: strobe)]),
        // The images edit and reframe read: JPEG (libjpeg-turbo) or PNG, orientation, fitting.
        .executableTarget(
            name: "FuzzJPEG", dependencies: [.product(name: "Strobe", package: strobe)]),
    ]
)
