import Foundation

/// Finds model files the way an installed command-line tool does.
///
/// A model is named by path (anything with a `/`, ending in `.safetensors`, or an existing file)
/// or by name
/// (`strobe-scenes` is the file `strobe-scenes.safetensors` in a model folder). Order:
/// 1. `--model` (the `explicit` argument), else the `STROBE_MODEL` environment variable;
/// 2. else the default name, ``defaultModelName``;
///
/// and a name is looked up in these folders, in order (``searchDirectories(environment:executableDirectory:currentDirectory:)``):
/// 1. `PREFIX/share/strobe/models`, where the executable is `PREFIX/bin/strobe` (an installed
///    binary finds the model installed beside it);
/// 2. `$XDG_DATA_HOME/strobe/models` (default `~/.local/share/strobe/models`: a user's models);
/// 3. `Models/` in the executable's folder or any folder above it (a checkout's build finds the
///    model that ships with it), then `Models/` in the current folder.
public enum ModelLocator {
    /// The name of the model used when none is named.
    public static let defaultModelName = "strobe-scenes"
    /// The file extension of model files.
    public static let fileExtension = "safetensors"
    /// Where the default model lives, relative to a checkout's root.
    public static let defaultRelativePath = "Models/\(defaultModelName).\(fileExtension)"
    /// The environment variable that names a model file or model name.
    public static let environmentVariable = "STROBE_MODEL"

    /// The model path to load.
    ///
    /// - Throws: ``PipelineError/modelNotFound(path:)`` when nothing is at a named path;
    ///   ``PipelineError/namedModelMissing(name:searched:)`` when a named model (or the default,
    ///   when nothing was named) is in none of the folders searched.
    public static func locate(
        explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        executableDirectory: String? = executableDirectory(),
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws(PipelineError) -> String {
        let named = explicit ?? environment[environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
        if let named, isPath(named) || isFile(named) {
            guard exists(named) else { throw .modelNotFound(path: named) }
            return named
        }
        let name = named ?? defaultModelName
        let directories = searchDirectories(
            environment: environment, executableDirectory: executableDirectory, currentDirectory: currentDirectory)
        for directory in directories {
            let candidate = (directory as NSString).appendingPathComponent("\(name).\(fileExtension)")
            if isFile(candidate) { return candidate }
        }
        throw .namedModelMissing(name: name, searched: directories)
    }

    /// Whether `value` names a file rather than a model name.
    static func isPath(_ value: String) -> Bool {
        value.contains("/") || value.hasSuffix(".\(fileExtension)")
    }

    /// The folders a model name is looked up in, in order, without duplicates (they need not
    /// exist).
    public static func searchDirectories(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executableDirectory: String? = executableDirectory(),
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) -> [String] {
        var directories: [String] = []
        if let executableDirectory {
            let bin = URL(fileURLWithPath: executableDirectory).standardizedFileURL
            directories.append(bin.deletingLastPathComponent().appendingPathComponent("share/strobe/models").path)
        }
        let dataHome = environment["XDG_DATA_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? environment["HOME"].map { ($0 as NSString).appendingPathComponent(".local/share") }
        if let dataHome { directories.append((dataHome as NSString).appendingPathComponent("strobe/models")) }
        if let executableDirectory {
            var directory = URL(fileURLWithPath: executableDirectory).standardizedFileURL
            while true {
                directories.append(directory.appendingPathComponent("Models").path)
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        directories.append(URL(fileURLWithPath: currentDirectory).standardizedFileURL.appendingPathComponent("Models").path)
        var seen = Set<String>()
        return directories.filter { seen.insert($0).inserted }
    }

    /// A model file found in the search folders.
    public struct Found: Sendable, Equatable {
        /// The model's name (the file name without `.safetensors`).
        public let name: String
        /// The file.
        public let path: String
        /// Whether this file is hidden by an earlier folder's file of the same name.
        public let shadows: Bool
    }

    /// Every model file in the search folders, in search order; of two files with one name the
    /// first is the one a name finds.
    public static func available(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executableDirectory: String? = executableDirectory(),
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) -> [Found] {
        var found: [Found] = []
        var names = Set<String>()
        for directory in searchDirectories(
            environment: environment, executableDirectory: executableDirectory, currentDirectory: currentDirectory)
        {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for file in files.sorted() where file.hasSuffix(".\(fileExtension)") {
                let path = (directory as NSString).appendingPathComponent(file)
                guard isFile(path) else { continue }
                let name = String(file.dropLast(fileExtension.count + 1))
                found.append(Found(name: name, path: path, shadows: !names.insert(name).inserted))
            }
        }
        return found
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
