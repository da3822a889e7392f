#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The signal that asked `strobe` to stop (0 while none has).
private let receivedSignal = Atomic<Int32>(0)
/// Whether a second signal may end the process at once (not while files are being written).
private let forceExitAllowed = Atomic<Bool>(true)

/// SIGINT (Ctrl-C) and SIGTERM during `strobe generate`.
///
/// The first signal asks the generation to stop: the progress handler cancels it after the
/// current network call, nothing is written, and the command exits with 128 + the signal
/// (130 for SIGINT, 143 for SIGTERM). A second signal before then exits at once with the same
/// status (nothing has been written yet), except while files are being written, when each
/// file is finished or removed by the atomic writer first. The handler only stores into
/// atomics and calls `_exit`, both async-signal-safe.
enum Interrupt {
    /// Installs the handlers for SIGINT and SIGTERM.
    static func install() {
        // Touch the globals so that they are initialised before a handler can read them.
        receivedSignal.store(0, ordering: .sequentiallyConsistent)
        forceExitAllowed.store(true, ordering: .sequentiallyConsistent)
        for number in [SIGINT, SIGTERM] {
            _ = signal(number) { number in
                let previous = receivedSignal.exchange(number, ordering: .sequentiallyConsistent)
                if previous != 0 && forceExitAllowed.load(ordering: .sequentiallyConsistent) {
                    _exit(128 + previous)
                }
            }
        }
    }

    /// The signal received, if any.
    static var received: Int32? {
        let number = receivedSignal.load(ordering: .sequentiallyConsistent)
        return number == 0 ? nil : number
    }

    /// The exit status for the signal received (128 + its number).
    static var exitStatus: Int32 { 128 + (received ?? 0) }

    /// The signal's name, for messages.
    static var signalName: String {
        guard let number = received else { return "no signal" }
        return number == SIGINT ? "SIGINT" : number == SIGTERM ? "SIGTERM" : "signal \(number)"
    }

    /// Runs `body` (writing files) without the immediate exit on a second signal.
    static func whileWriting<R>(_ body: () throws -> R) rethrows -> R {
        forceExitAllowed.store(false, ordering: .sequentiallyConsistent)
        defer { forceExitAllowed.store(true, ordering: .sequentiallyConsistent) }
        return try body()
    }
}
