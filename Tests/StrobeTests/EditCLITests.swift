import Foundation
import Testing
@testable import Strobe

/// `strobe edit` and `strobe reframe` as a user runs them, good and bad input.
@Suite struct EditCLITests {
    static let model = ["--model", DefaultModelTests.modelPath]

    /// A folder holding a Strobe-made 256x256 image `in.png` and the fixture images.
    static func folder() throws -> URL {
        let directory = try TemporaryFile.directory()
        let run = try CLITests.strobe(["generate", "a lighthouse on the left at noon", "-s", "3", "-o", "in.png", "-q"] + model,
                                      in: directory)
        #expect(run.status == 0, "\(run.stderr)")
        for name in ["truncated.jpg", "huge-header.jpg", "mask-white.png", "baseline.jpg"] {
            try FileManager.default.copyItem(atPath: InputImageTests.path(name), toPath: directory.appendingPathComponent(name).path)
        }
        try Data("not an image".utf8).write(to: directory.appendingPathComponent("notes.png"))
        try Data().write(to: directory.appendingPathComponent("empty.png"))
        return directory
    }

    @Test("edit and reframe write images that record the operation; reframe reuses the recorded prompt")
    func good() throws {
        let directory = try Self.folder()
        let edit = try CLITests.strobe(["edit", "in.png", "a lighthouse at night", "--strength", "0.5", "-s", "1", "-o", "m.png"] + Self.model,
                                       in: directory)
        #expect(edit.status == 0 && edit.stdout.contains("wrote m.png") && edit.stdout.contains("flash 2 steps"), "\(edit.stderr)")
        let modified = try #require(try PNGCodec.read(from: directory.appendingPathComponent("m.png").path).text(forKey: "strobe"))
        #expect(modified.contains("\"prompt_guidance\":\"4.0 above t = 0.4\""), "\(modified)")
        let reframe = try CLITests.strobe(["reframe", "in.png", "--aspect-ratio", "16:9", "--anchor", "right", "-s", "1", "-o", "r.png"]
                                          + Self.model, in: directory)
        #expect(reframe.status == 0 && reframe.stderr.contains("using the prompt recorded in the image: a lighthouse on the left at noon"),
                "\(reframe.stderr)")
        let made = try PNGCodec.read(from: directory.appendingPathComponent("r.png").path)
        #expect(made.image.width == 464 && made.image.height == 256)
        let json = try #require(made.text(forKey: "strobe"))
        #expect(json.contains("\"operation\":\"reframe\"") && json.contains("\"anchor\":\"right\"") && json.contains("input_sha256"), "\(json)")
        let jpeg = try CLITests.strobe(["edit", "baseline.jpg", "a sea", "--strength", "1", "-s", "1", "-o", "j.png"] + Self.model,
                                       in: directory)
        #expect(jpeg.status == 0 && jpeg.stdout.contains("(seed 1, 320x208"), "\(jpeg.stdout) \(jpeg.stderr)")
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        let what: String, arguments: [String], status: Int32, says: String
        var testDescription: String { what }
    }

    static let bad: [Bad] = [
        Bad(what: "not an image", arguments: ["edit", "notes.png", "x"], status: 1, says: "not an image Strobe reads (PNG or JPEG)"),
        Bad(what: "an empty file", arguments: ["edit", "empty.png", "x"], status: 1, says: "not an image Strobe reads"),
        Bad(what: "a missing file", arguments: ["edit", "nowhere.png", "x"], status: 1, says: "nowhere.png"),
        Bad(what: "a truncated JPEG", arguments: ["edit", "truncated.jpg", "x"], status: 1, says: "not a usable JPEG"),
        Bad(what: "a 50,000 x 50,000 header", arguments: ["edit", "huge-header.jpg", "x"], status: 1, says: "the limit is 67108864 pixels"),
        Bad(what: "a mask of another size", arguments: ["edit", "in.png", "x", "--mask", "mask-white.png"], status: 1,
            says: "the mask is 24x16, the image 256x256"),
        Bad(what: "a mask that is not an image", arguments: ["edit", "in.png", "x", "--mask", "notes.png"], status: 1, says: "mask notes.png"),
        Bad(what: "strength above 1", arguments: ["edit", "in.png", "x", "--strength", "1.5"], status: 64, says: "must be a number in [0, 1]"),
        Bad(what: "strength NaN", arguments: ["edit", "in.png", "x", "--strength", "nan"], status: 64, says: "must be a number in [0, 1]"),
        Bad(what: "prompt guidance over the limit", arguments: ["edit", "in.png", "x", "--prompt-guidance", "25"], status: 64,
            says: "--prompt-guidance 25.0 must be a number in [0, 20.0]"),
        Bad(what: "prompt guidance NaN", arguments: ["edit", "in.png", "x", "--prompt-guidance", "nan"], status: 64,
            says: "must be a number in [0, 20.0]"),
        Bad(what: "layout steps over the limit", arguments: ["edit", "in.png", "x", "--mask", "in.png", "--layout-steps", "17"],
            status: 64, says: "--layout-steps 17 must be in 0...16"),
        Bad(what: "layout steps without a mask", arguments: ["edit", "in.png", "x", "--layout-steps", "4"], status: 64,
            says: "--layout-steps is for an inpainting (--mask)"),
        Bad(what: "layout steps with the full sampler",
            arguments: ["edit", "in.png", "x", "--mask", "in.png", "--sampler", "full", "--layout-steps", "4"], status: 64,
            says: "--layout-steps is for the flash sampler"),
        Bad(what: "layout steps on a reframe", arguments: ["reframe", "in.png", "--aspect-ratio", "16:9", "--layout-steps", "4"],
            status: 64, says: "layout-steps"),
        Bad(what: "an unknown anchor", arguments: ["reframe", "in.png", "--aspect-ratio", "16:9", "--anchor", "middle"], status: 64,
            says: "anchor"),
        Bad(what: "reframing to the ratio it has", arguments: ["reframe", "in.png", "--aspect-ratio", "1:1"], status: 1,
            says: "already 1:1: nothing to reframe"),
        Bad(what: "reframe without a ratio", arguments: ["reframe", "in.png"], status: 64, says: "--aspect-ratio or --size"),
    ]

    @Test(arguments: bad)
    func refused(_ c: Bad) throws {
        let directory = try Self.folder()
        let before = try CLITests.files(directory)
        let run = try CLITests.strobe(c.arguments + ["-o", "out.png"] + Self.model, in: directory)
        #expect(run.status == c.status, "\(c.what): status \(run.status), \(run.stderr)")
        #expect(run.stderr.contains(c.says), "\(c.what): \(run.stderr)")
        #expect(try CLITests.files(directory) == before, "\(c.what): a file was written")
    }
}
