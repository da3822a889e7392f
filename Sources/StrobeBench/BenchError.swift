import Strobe

/// Why a benchmark could not run.
public enum BenchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A `--modes` entry that is not `<sampler>_<steps>` with a valid step count.
    case invalidMode(String)
    /// A setting out of range (runs, warm-up runs, threads), with a message naming it.
    case invalidSetting(String)
    /// The engine failed.
    case pipeline(PipelineError)
    /// The report could not be written.
    case write(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidMode(let text):
            return "'\(text)' is not a benchmark mode: expected <sampler>_<steps> such as flash_4 or full_100 "
                + "(flash 1-10 steps, full 1-1000)"
        case .invalidSetting(let message): return message
        case .pipeline(let error): return error.description
        case .write(let path, let reason): return "cannot write \(path): \(reason)"
        }
    }
}
