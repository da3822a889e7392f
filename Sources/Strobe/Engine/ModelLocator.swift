import Foundation

/// Finds the model file to load when the user may not name one.
///
/// Order: an explicit path; else the `STROBE_MODEL` environment variable; else
/// `Models/strobe-scenes.safetensors` in the executable's directory or any of its ancestors
/// (so a built `strobe` inside a checkout finds the model that ships with it); else the same
/// relative path in the current directory.
public enum ModelLocator {
    /// Where the default model lives, relative to a checkout's root.
    public static let defaultRelativePath = "Models/strobe-scenes.safetensors"
    /// The environment variable that names a model file.
    public static let environmentVariable = "STROBE_MODEL"

    /// The model path to load.
    ///
    /// - Throws: ``PipelineError/modelNotFound(path:)`` when nothing is at an explicit or
    ///   environment path; ``PipelineError/defaultModelMissing(searched:)`` when nothing was named and
    ///   the default model is in none of the places searched.
    public static func locate(
        explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        executableDirectory: String? = executableDirectory(),
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws(PipelineError) -> String {
        if let named = explicit ?? environment[environmentVariable].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard exists(named) else { throw .modelNotFound(path: named) }
            return named
        }
        var searched: [String] = []
        if let start = executableDirectory {
            var directory = URL(fileURLWithPath: start).standardizedFileURL
            while true {
                let candidate = directory.appendingPathComponent(defaultRelativePath).path
                if isFile(candidate) { return candidate }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
            searched.append("\(start) and its parent directories")
        }
        let local = URL(fileURLWithPath: currentDirectory).appendingPathComponent(defaultRelativePath).path
        if isFile(local) { return local }
        searched.append(currentDirectory)
        throw .defaultModelMissing(searched: searched)
    }

    /// The directory holding the running executable (symbolic links resolved), if known.
    public static func executableDirectory() -> String? {
        guard let url = Bundle.main.executableURL else { return nil }
        return url.resolvingSymlinksInPath().deletingLastPathComponent().path
    }

    /// Whether anything (a file, a directory, …) is at `path`: a named model that is not a
    /// regular file reaches the weights reader, which says what it is.
    static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    static func isFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }
}
