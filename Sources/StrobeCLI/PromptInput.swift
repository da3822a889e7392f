#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a prompt could not be read from the command line or a file.
enum PromptInputError: Error, Equatable, CustomStringConvertible {
    /// The prompt file cannot be opened or read (the system's reason).
    case unreadable(path: String, reason: String)
    /// The prompt file is longer than the model could take.
    case tooLarge(path: String, limit: Int)
    /// Bytes that are not UTF-8, with the offset and value of the first bad byte.
    case invalidUTF8(source: String, offset: Int, byte: UInt8)

    var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read \(Self.name(path)): \(reason)"
        case let .tooLarge(path, limit):
            return "\(Self.name(path)) is longer than \(limit) bytes, more than the model can take"
        case let .invalidUTF8(source, offset, byte):
            let hex = String(byte, radix: 16, uppercase: true)
            return "\(source) is not valid UTF-8 (byte 0x\(hex.count == 1 ? "0" : "")\(hex) at offset \(offset))"
        }
    }

    /// `the prompt file PATH`, or `the prompt on standard input` for `-`.
    static func name(_ path: String) -> String { path == "-" ? "the prompt on standard input" : "the prompt file \(path)" }
}

/// Reading prompts: from a file or standard input (`--prompt-file PATH`, `-` for stdin), and
/// checking that the raw command line is UTF-8.
enum PromptInput {
    /// Reads the prompt in the file at `path` (`-`: standard input). At most `limit` bytes are
    /// accepted and at most `limit + 1` are ever read, so a huge file fails at once without
    /// being loaded. The text must be UTF-8; a leading byte-order mark and trailing line breaks
    /// (as editors and `echo` leave them) are dropped.
    static func read(path: String, limit: Int) throws(PromptInputError) -> String {
        let fd = path == "-" ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, reason: errnoText()) }
        defer { if fd != STDIN_FILENO { close(fd) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count <= limit {
            let count = chunk.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress!, min($0.count, limit + 1 - bytes.count)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: errnoText())
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        guard bytes.count <= limit else { throw .tooLarge(path: path, limit: limit) }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        return try decode(bytes, source: PromptInputError.name(path))
    }

    /// Checks that the prompt file at `path` can be opened (before the model is loaded); `-`
    /// (standard input) always can.
    static func checkReadable(_ path: String) throws(PromptInputError) {
        guard path != "-" else { return }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, reason: errnoText()) }
        close(fd)
    }

    /// Checks that every raw command-line argument is UTF-8 (Swift would silently replace bad
    /// bytes, changing a prompt or a file name).
    static func checkArguments() throws(PromptInputError) {
        for index in 1..<Int(CommandLine.argc) {
            guard let argument = CommandLine.unsafeArgv[index] else { continue }
            let bytes = UnsafeBufferPointer(start: argument, count: strlen(argument))
            _ = try decode(bytes.map { UInt8(bitPattern: $0) }, source: "command-line argument \(index)")
        }
    }

    /// `bytes` as a string, or the offset of the first byte that is not UTF-8.
    static func decode(_ bytes: [UInt8], source: String) throws(PromptInputError) -> String {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .error:
                throw .invalidUTF8(source: source, offset: offset, byte: bytes[offset])
            case .emptyInput: return String(decoding: bytes, as: UTF8.self)
            }
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// `read(2)` (the name is taken inside ``PromptInput``).
private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
