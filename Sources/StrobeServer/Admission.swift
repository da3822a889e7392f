import Synchronization

/// Bytes reserved by requests being read and prepared (bodies, decoded uploads), so that many
/// uploads at once cannot take more memory than ``ServerSettings/uploadBudgetBytes``. A
/// reservation that does not fit is refused (429), never waited for.
final class ByteBudget: Sendable {
    private let used = Mutex(0)
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Reserves `bytes`; false when they do not fit beside what is reserved.
    func reserve(_ bytes: Int) -> Bool {
        used.withLock { used in
            guard bytes >= 0, used + bytes <= limit else { return false }
            used += bytes
            return true
        }
    }

    func release(_ bytes: Int) {
        used.withLock { $0 = max(0, $0 - bytes) }
    }

    var reserved: Int { used.withLock { $0 } }
}

/// At most `permits` holders at once; the others wait in arrival order. Bounds the CPU-heavy
/// preparation of requests (decoding uploads, fitting and planning edits), which runs on the
/// shared task threads.
actor Gate {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) { free = permits }

    func enter() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }

    /// Runs `body` holding a permit (off the actor: it only counts permits).
    nonisolated func with<R: Sendable>(_ body: () async throws -> R) async throws -> R {
        await enter()
        do {
            let result = try await body()
            await leave()
            return result
        } catch {
            await leave()
            throw error
        }
    }
}
