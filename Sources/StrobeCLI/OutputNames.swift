import Foundation
import Strobe

/// Where generated images go.
///
/// - No `--output`: `strobe-<seed>.png` in the current directory, one per image.
/// - `--output DIR` naming an existing directory (or ending in `/`): `DIR/strobe-<seed>.png`.
/// - `--output PATH` with one image: exactly `PATH`.
/// - `--output DIR/STEM.EXT` with several images: `DIR/STEM-<seed>.EXT` (`.png` if no extension).
enum OutputNames {
    static func paths(output: String?, seeds: [UInt64]) -> [String] {
        guard let output else { return seeds.map { "strobe-\($0).png" } }
        var isDirectory: ObjCBool = false
        if output.hasSuffix("/") || (FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory)
            && isDirectory.boolValue) {
            return seeds.map { (output as NSString).appendingPathComponent("strobe-\($0).png") }
        }
        if seeds.count == 1 { return [output] }
        let url = URL(fileURLWithPath: output)
        let ext = url.pathExtension.isEmpty ? "png" : url.pathExtension
        let stem = url.deletingPathExtension().lastPathComponent
        let directory = (output as NSString).deletingLastPathComponent
        return seeds.map { seed in
            let name = "\(stem)-\(seed).\(ext)"
            return directory.isEmpty ? name : (directory as NSString).appendingPathComponent(name)
        }
    }

    /// Checks that every path can be written (directory exists and really accepts a new file,
    /// no file there unless overwriting, no directory there, no two images to the same path),
    /// before any work is done.
    static func check(_ paths: [String], overwrite: Bool) throws(ImageError) {
        var seen = Set<String>()
        for path in paths {
            guard seen.insert(path).inserted else { throw .fileExists(path: path) }
            try AtomicFileWriter.checkWritable(path, overwrite: overwrite)
        }
    }
}
