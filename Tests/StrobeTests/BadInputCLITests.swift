import Foundation
import Testing
@testable import Strobe

/// One `strobe generate` run with bad (or borderline) input: the exit status, words of the
/// message on stderr, and exactly which files appear in the working directory.
struct CLICase: Sendable, CustomTestStringConvertible {
    /// What is tried, as docs/reliability.md's "Bad input" table says it.
    let name: String
    /// Arguments after `generate`; `{in}` stands for a folder holding ``inputs``, `{model}` for
    /// the fixture model.
    let arguments: [String]
    /// Files (name → bytes) made in `{in}` before the run.
    var inputs: [String: Data] = [:]
    /// Folders made in the working directory before the run.
    var folders: [String] = []
    /// The name in `{in}` of a file to put on standard input.
    var stdin: String?
    /// The expected exit status.
    let status: Int32
    /// Words the output must contain (stderr on failure, stdout on success).
    let words: [String]
    /// Files that must exist afterwards in the working directory (besides ``folders``); on
    /// failure, none.
    var outputs: [String] = []

    var testDescription: String { name }

    static let small = ["--size", "48x32", "--model", "{model}"]
    static func words(_ count: Int) -> String { Array(repeating: "a", count: count).joined(separator: " ") }
    static let tenMegabytes = Data(repeating: UInt8(ascii: "a"), count: 10 << 20)

    /// Malformed or impossible options.
    static let options: [CLICase] = [
        CLICase(name: "unknown aspect ratio", arguments: ["x", "--aspect-ratio", "5:4"] + small, status: 64,
                words: ["The value '5:4' is invalid for '--aspect-ratio <W:H>'"]),
        CLICase(name: "empty aspect ratio", arguments: ["x", "--aspect-ratio", ""] + small, status: 64,
                words: ["is invalid for '--aspect-ratio <W:H>'"]),
        CLICase(name: "steps 0", arguments: ["x", "--steps", "0"] + small, status: 64,
                words: ["--steps 0 is out of range for the flash sampler (1...10)"]),
        CLICase(name: "steps negative", arguments: ["x", "--steps", "-3"] + small, status: 64,
                words: ["--steps -3 is out of range for the flash sampler (1...10)"]),
        CLICase(name: "steps above the flash maximum", arguments: ["x", "--steps", "11"] + small, status: 64,
                words: ["--steps 11 is out of range for the flash sampler (1...10)"]),
        CLICase(name: "steps above the full maximum", arguments: ["x", "--sampler", "full", "--steps", "1001"] + small,
                status: 64, words: ["--steps 1001 is out of range for the full sampler (1...1000)"]),
        CLICase(name: "steps not a number", arguments: ["x", "--steps", "four"] + small, status: 64,
                words: ["The value 'four' is invalid for '--steps <steps>'"]),
        CLICase(name: "unknown sampler", arguments: ["x", "--sampler", "slow"] + small, status: 64,
                words: ["The value 'slow' is invalid for '--sampler <sampler>'"]),
        CLICase(name: "count 0", arguments: ["x", "--count", "0"] + small, status: 64,
                words: ["--count 0 is out of range (1...256)"]),
        CLICase(name: "count negative", arguments: ["x", "--count", "-2"] + small, status: 64,
                words: ["--count -2 is out of range (1...256)"]),
        CLICase(name: "count 257", arguments: ["x", "--count", "257"] + small, status: 64,
                words: ["--count 257 is out of range (1...256)"]),
        CLICase(name: "count beyond 64 bits", arguments: ["x", "--count", "99999999999999999999999"] + small, status: 64,
                words: ["The value '99999999999999999999999' is invalid for '--count <count>'"]),
        CLICase(name: "seed not a number", arguments: ["x", "--seed", "abc"] + small, status: 64,
                words: ["--seed 'abc' is not an integer"]),
        CLICase(name: "seed with a fraction", arguments: ["x", "--seed", "1.5"] + small, status: 64,
                words: ["--seed '1.5' is not an integer"]),
        CLICase(name: "seed 2^64", arguments: ["x", "--seed", "18446744073709551616"] + small, status: 64,
                words: ["--seed 18446744073709551616 is out of range (0...18446744073709551615, or negative for a random seed)"]),
        CLICase(name: "seed below -2^63", arguments: ["x", "--seed", "-9223372036854775809"] + small, status: 64,
                words: ["--seed -9223372036854775809 is out of range"]),
        CLICase(name: "threads 0", arguments: ["x", "--threads", "0"] + small, status: 64,
                words: ["--threads 0 is out of range (1...1024)"]),
        CLICase(name: "threads negative", arguments: ["x", "-t", "-4"] + small, status: 64,
                words: ["--threads -4 is out of range (1...1024)"]),
        CLICase(name: "threads 1025", arguments: ["x", "--threads", "1025"] + small, status: 64,
                words: ["--threads 1025 is out of range (1...1024)"]),
        CLICase(name: "threads beyond 64 bits", arguments: ["x", "--threads", "1" + String(repeating: "0", count: 30)] + small,
                status: 64, words: ["is invalid for '--threads <threads>'"]),
        CLICase(name: "size not WxH", arguments: ["x", "--size", "big", "--model", "{model}"], status: 64,
                words: ["The value 'big' is invalid for '--size <WxH>'"]),
        CLICase(name: "size 0x0", arguments: ["x", "--size", "0x0", "--model", "{model}"], status: 1,
                words: ["image size 0x0 is not usable: each side must be a positive multiple of the patch size 8, at most 4096"]),
        CLICase(name: "size above 4096", arguments: ["x", "--size", "8192x64", "--model", "{model}"], status: 1,
                words: ["image size 8192x64 is not usable"]),
        CLICase(name: "unknown option", arguments: ["x", "--colour", "red"] + small, status: 64,
                words: ["Unknown option '--colour'"]),
        // /proc refuses new files even to root (permission bits would not stop root).
        CLICase(name: "output in an unwritable directory (/proc)", arguments: ["x", "-o", "/proc/out.png"] + small,
                status: 1, words: ["cannot write to /proc: the directory does not accept new files"]),
        CLICase(name: "output in a missing directory (trailing slash)", arguments: ["x", "-o", "nowhere/"] + small,
                status: 1, words: ["directory does not exist: nowhere"]),
        CLICase(name: "output path under a file", arguments: ["x", "-o", "{in}/file.txt/out.png"] + small,
                inputs: ["file.txt": Data("x".utf8)], status: 1, words: ["not a directory: {in}/file.txt"]),
        CLICase(name: "output is a directory: the image goes inside", arguments: ["x", "-o", "pictures", "-s", "5"] + small,
                folders: ["pictures"], status: 0, words: ["wrote pictures/strobe-5.png"], outputs: ["pictures/strobe-5.png"]),
        CLICase(name: "output name taken by a directory", arguments: ["x", "-o", "pictures", "-s", "5"] + small,
                folders: ["pictures", "pictures/strobe-5.png"], status: 1,
                words: ["destination is a directory: pictures/strobe-5.png"]),
        CLICase(name: "two images, second name taken by a directory",
                arguments: ["x", "-o", "a.png", "-s", "5", "--count", "2"] + small,
                folders: ["a-6.png"], status: 1, words: ["destination is a directory: a-6.png"]),
    ]

    /// Empty, odd, huge and malformed prompts.
    static let prompts: [CLICase] = [
        CLICase(name: "no prompt", arguments: small, status: 64, words: ["Missing the prompt"]),
        CLICase(name: "empty prompt", arguments: [""] + small, status: 1,
                words: ["the prompt is empty; pass --unconditional for an image without a prompt"]),
        CLICase(name: "--unconditional", arguments: ["--unconditional", "-o", "u.png"] + small, status: 0,
                words: ["wrote u.png"], outputs: ["u.png"]),
        CLICase(name: "--unconditional with a prompt", arguments: ["x", "--unconditional"] + small, status: 64,
                words: ["--unconditional takes no prompt"]),
        CLICase(name: "prompt given twice", arguments: ["x", "-p", "y"] + small, status: 64,
                words: ["Give the prompt once"]),
        CLICase(name: "whitespace only", arguments: [" \t\n  "] + small, status: 1,
                words: ["the prompt is only whitespace"]),
        CLICase(name: "ideographic space only", arguments: ["\u{3000}"] + small, status: 1,
                words: ["the prompt is only whitespace"]),
        CLICase(name: "1,000 tokens", arguments: [words(1000), "-o", "long.png"] + small, status: 0,
                words: ["wrote long.png"], outputs: ["long.png"]),
        CLICase(name: "1,001 tokens", arguments: [words(1001)] + small, status: 1,
                words: ["the prompt has 1001 tokens; the model accepts at most 1000"]),
        CLICase(name: "escape sequence", arguments: ["a \u{1B}[31mred\u{1B}[0m lake"] + small, status: 1,
                words: ["the prompt contains the control character U+001B at position 3"]),
        CLICase(name: "bell character", arguments: ["a lake\u{7}"] + small, status: 1,
                words: ["control character U+0007 at position 7"]),
        CLICase(name: "NUL in a prompt file", arguments: ["--prompt-file", "{in}/p.txt"] + small,
                inputs: ["p.txt": Data([0x61, 0x00, 0x62])], status: 1, words: ["control character U+0000 at position 2"]),
        CLICase(name: "tabs and line breaks", arguments: ["a lake\tat dusk\r\nwith stars", "-o", "t.png"] + small,
                status: 0, words: ["wrote t.png"], outputs: ["t.png"]),
        CLICase(name: "emoji", arguments: ["🌅 a lake at sunset 🏔️", "-o", "e.png"] + small, status: 0,
                words: ["wrote e.png"], outputs: ["e.png"]),
        CLICase(name: "right-to-left text", arguments: ["غروب الشمس فوق البحيرة", "-o", "r.png"] + small, status: 0,
                words: ["wrote r.png"], outputs: ["r.png"]),
        CLICase(name: "invalid UTF-8 in a prompt file", arguments: ["--prompt-file", "{in}/p.txt"] + small,
                inputs: ["p.txt": Data([0x61, 0x62, 0x63, 0xFF, 0x64])], status: 1,
                words: ["the prompt file {in}/p.txt is not valid UTF-8 (byte 0xFF at offset 3)"]),
        CLICase(name: "truncated UTF-8 sequence in a prompt file", arguments: ["--prompt-file", "{in}/p.txt"] + small,
                inputs: ["p.txt": Data([0x61, 0xE2, 0x82])], status: 1, words: ["is not valid UTF-8 (byte 0xE2 at offset 1)"]),
        CLICase(name: "10 MB prompt file", arguments: ["--prompt-file", "{in}/p.txt"] + small,
                inputs: ["p.txt": tenMegabytes], status: 1,
                words: ["the prompt file {in}/p.txt is longer than 64000 bytes, more than the model can take"]),
        CLICase(name: "10 MB prompt on standard input", arguments: ["--prompt-file", "-"] + small,
                inputs: ["p.txt": tenMegabytes], stdin: "p.txt", status: 1,
                words: ["the prompt on standard input is longer than 64000 bytes"]),
        CLICase(name: "64,001-byte prompt file", arguments: ["--prompt-file", "{in}/p.txt"] + small,
                inputs: ["p.txt": Data(repeating: UInt8(ascii: "a"), count: 64_001)], status: 1,
                words: ["is longer than 64000 bytes"]),
        CLICase(name: "64,000-byte prompt file (too many tokens)", arguments: ["--prompt-file", "{in}/p.txt"] + small,
                inputs: ["p.txt": Data(repeating: UInt8(ascii: "a"), count: 64_000)], status: 1,
                words: ["tokens; the model accepts at most 1000"]),
        CLICase(name: "missing prompt file", arguments: ["--prompt-file", "{in}/none.txt"] + small, status: 1,
                words: ["cannot read the prompt file {in}/none.txt: No such file or directory"]),
        CLICase(name: "prompt file is a directory", arguments: ["--prompt-file", "{in}"] + small,
                inputs: ["p.txt": Data()], status: 1, words: ["cannot read the prompt file {in}: Is a directory"]),
        CLICase(name: "empty prompt file", arguments: ["--prompt-file", "{in}/p.txt"] + small,
                inputs: ["p.txt": Data()], status: 1, words: ["the prompt is empty; pass --unconditional"]),
        CLICase(name: "prompt file with a byte-order mark and a final line break",
                arguments: ["--prompt-file", "{in}/p.txt", "-o", "f.png"] + small,
                inputs: ["p.txt": Data([0xEF, 0xBB, 0xBF] + Array("a lake\n".utf8))], status: 0,
                words: ["wrote f.png"], outputs: ["f.png"]),
        CLICase(name: "prompt on standard input", arguments: ["--prompt-file", "-", "-o", "s.png"] + small,
                inputs: ["p.txt": Data("a lake\r\n".utf8)], stdin: "p.txt", status: 0, words: ["wrote s.png"],
                outputs: ["s.png"]),
        CLICase(name: "prompt file and an argument", arguments: ["x", "--prompt-file", "{in}/p.txt"] + small,
                inputs: ["p.txt": Data("y".utf8)], status: 64, words: ["Give the prompt once"]),
    ]
}

/// `strobe generate` with every case of ``CLICase/options`` and ``CLICase/prompts``.
@Suite struct BadInputCLITests {
    /// Runs `bad` and checks status, words and files; returns the run and its folders.
    @discardableResult
    func check(_ bad: CLICase) throws -> (CLITests.Run, directory: URL, inputs: URL) {
        let directory = try TemporaryFile.directory(), inputs = try TemporaryFile.directory()
        for (name, data) in bad.inputs { try data.write(to: inputs.appendingPathComponent(name)) }
        for folder in bad.folders {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent(folder),
                                                    withIntermediateDirectories: true)
        }
        func substitute(_ text: String) -> String {
            text.replacingOccurrences(of: "{in}", with: inputs.path)
                .replacingOccurrences(of: "{model}", with: CLITests.model)
        }
        let run = try CLITests.strobe(
            ["generate"] + bad.arguments.map(substitute), in: directory,
            stdin: bad.stdin.map { inputs.appendingPathComponent($0) })
        #expect(run.status == bad.status, "\(bad.name): stderr \(run.stderr)")
        let output = bad.status == 0 ? run.stdout : run.stderr
        for words in bad.words.map(substitute) {
            #expect(output.contains(words), "\(bad.name): \(output)")
        }
        if bad.status != 0 {
            #expect(run.stderr.hasPrefix(bad.status == 64 ? "Error: " : "strobe: "), "\(run.stderr)")
        }
        // Exactly the expected files, and no temporary ones (hidden files included).
        let found = try FileManager.default.subpathsOfDirectory(atPath: directory.path).filter { path in
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: directory.appendingPathComponent(path).path, isDirectory: &isDirectory)
            return !isDirectory.boolValue
        }
        #expect(found.sorted() == bad.outputs.sorted(), "\(bad.name)")
        for name in bad.outputs {
            let file = try PNGCodec.read(from: directory.appendingPathComponent(name).path)
            #expect(file.image.width == 48 && file.image.height == 32)
        }
        return (run, directory, inputs)
    }

    @Test(arguments: CLICase.options)
    func options(_ bad: CLICase) throws { try check(bad) }

    @Test(arguments: CLICase.prompts)
    func prompts(_ bad: CLICase) throws { try check(bad) }

    /// Prompts that are accepted are recorded exactly (after a prompt file's byte-order mark and
    /// final line breaks are dropped); an unconditional image says so.
    @Test func acceptedPromptsAreRecordedExactly() throws {
        let expected = [
            "--unconditional": "", "emoji": "🌅 a lake at sunset 🏔️", "right-to-left text": "غروب الشمس فوق البحيرة",
            "tabs and line breaks": "a lake\tat dusk\r\nwith stars",
            "prompt file with a byte-order mark and a final line break": "a lake", "prompt on standard input": "a lake",
        ]
        for bad in CLICase.prompts where expected[bad.name] != nil {
            let (_, directory, _) = try check(bad)
            let file = try PNGCodec.read(from: directory.appendingPathComponent(bad.outputs[0]).path)
            let json = try #require(file.text(forKey: "strobe"))
            let metadata = try JSONDecoder().decode(ImageMetadata.self, from: Data(json.utf8))
            #expect(metadata.prompt == expected[bad.name], "\(bad.name)")
            #expect(metadata.unconditional == (bad.name == "--unconditional"))
            #expect(file.text(forKey: "parameters")?.hasPrefix(expected[bad.name]! + "\nSteps: 4") == true)
        }
    }

    /// An argument that is not UTF-8 (here a Latin-1 byte, passed through a shell since
    /// Foundation passes only strings) is refused rather than silently altered.
    @Test func argumentThatIsNotUTF8() throws {
        let directory = try TemporaryFile.directory()
        let executable = try #require(CLITests.executable)
        let run = try CLITests.run(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", #"exec "$0" generate "$(printf 'caf\351')" --model "$1" -o out.png"#, executable.path, CLITests.model],
            in: directory, environment: ProcessInfo.processInfo.environment)
        #expect(run.status == 64)
        #expect(run.stderr.contains("command-line argument 2 is not valid UTF-8 (byte 0xE9 at offset 3)"), "\(run.stderr)")
        #expect(try CLITests.files(directory).isEmpty)
    }
}
