import ArgumentParser
import Foundation
import Strobe

/// `strobe models`: the model files found where `--model NAME` looks, and the default.
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the models found, in the order a name is looked up, and which is the default.",
        discussion: """
            --model (or $\(ModelLocator.environmentVariable)) takes a file path or a model name: NAME is the \
            file NAME.\(ModelLocator.fileExtension) in the first of these folders that has it: \
            PREFIX/share/strobe/models beside the installed binary, $XDG_DATA_HOME/strobe/models \
            (default ~/.local/share/strobe/models), then Models/ above the binary and in the current folder. \
            Without either, the model named \(ModelLocator.defaultModelName) is used.
            """)

    func run() throws {
        let found = ModelLocator.available()
        let defaultPath = try? ModelLocator.locate(explicit: nil)
        print("searched, in order:")
        for directory in ModelLocator.searchDirectories() { print("  \(directory)") }
        if found.isEmpty {
            print("no models found")
        } else {
            print("models:")
            for model in found {
                var notes: [String] = []
                if model.path == defaultPath { notes.append("default") }
                if model.shadows { notes.append("hidden by an earlier file of the same name") }
                let suffix = notes.isEmpty ? "" : "  (\(notes.joined(separator: "; ")))"
                print("  \(model.name)  \(model.path)\(suffix)")
            }
        }
        if let named = ProcessInfo.processInfo.environment[ModelLocator.environmentVariable], !named.isEmpty {
            print("\(ModelLocator.environmentVariable)=\(named) chooses the default: \(defaultPath ?? "not found")")
        }
    }
}
