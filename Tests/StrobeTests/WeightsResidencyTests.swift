import Foundation
import Testing
@testable import Strobe

/// Converting a tensor releases its mapped pages; reading it again faults them back in from the
/// file and gives the same values, and the mapping's resident size drops.
@Suite struct WeightsResidencyTests {
    /// Resident KiB of this process's mappings of `path` (from /proc/self/smaps); nil without
    /// /proc or without such a mapping.
    static func residentKiB(of path: String) -> Int? {
        // (procfs files report size 0: read to the end rather than by size)
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps") else { return nil }
        let smaps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        var total: Int?, inside = false
        for line in smaps.split(separator: "\n") {
            if let first = line.first, first.isHexDigit, line.contains("-") && line.split(separator: " ").count >= 5 {
                inside = line.hasSuffix(path)
                if inside { total = total ?? 0 }
            } else if inside, line.hasPrefix("Rss:") {
                total! += Int(line.split(whereSeparator: { $0 == " " })[1]) ?? 0
            }
        }
        return total
    }

    @Test func convertedTensorsReleaseTheirPagesAndReadBackEqual() throws {
        // A private copy: other tests running in parallel map the fixture itself.
        let fixture = ModelParityTests.directory.appendingPathComponent("random.safetensors")
        let path = try TemporaryFile.write(Array(try Data(contentsOf: fixture)))
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let file = try WeightsFile(path: path)
        let names = file.tensors.keys.sorted()
        let first = names.map { file.tensor($0)! }
        let second = names.map { file.tensor($0)! }
        #expect(first == second)
        // Every tensor was read twice; little may stay resident: only pages shared with the header
        // or with neighbouring tensors' edges.
        guard FileManager.default.fileExists(atPath: "/proc/self/smaps") else { return }
        let measured = withExtendedLifetime(file) {   // the mapping lives as long as `file`
            Self.residentKiB(of: URL(fileURLWithPath: path).resolvingSymlinksInPath().path)
        }
        let resident = try #require(measured, "no mapping of the file found in /proc/self/smaps")
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(resident * 1024 < size / 2, "\(resident) KiB of a \(size)-byte file still resident")
    }
}
