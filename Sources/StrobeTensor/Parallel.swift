import Dispatch
import Foundation
import Synchronization

/// Splits row-wise work (the element-wise ops and the matrix products' tiles) over CPU cores.
///
/// Work is cut into contiguous chunks of rows, one per thread, and run on the process's
/// spinning worker threads (`WorkerPool`), or with `DispatchQueue.concurrentPerform` while
/// those are busy with another region. Small work runs on the calling thread. Each op computes
/// every output element by the same sequence of operations whatever the chunking, so results
/// never depend on the thread count.
public enum Parallel {
    private static let defaultThreads = Atomic<Int>(max(1, ProcessInfo.processInfo.activeProcessorCount))

    @TaskLocal private static var threadOverride: Int?

    /// Below this many scalar operations, work runs on one thread.
    public static let minimumWorkPerThread = 32_768

    /// The process-wide thread count for the non-BLAS ops (default: the active CPU count).
    public static var threads: Int {
        get { defaultThreads.load(ordering: .relaxed) }
        set {
            precondition(newValue >= 1, "Parallel.threads must be at least 1, got \(newValue)")
            defaultThreads.store(newValue, ordering: .relaxed)
        }
    }

    /// The thread count in effect here: a `withThreads` override, or else `threads`.
    public static var currentThreads: Int { threadOverride ?? threads }

    /// Runs `body` with the non-BLAS ops limited to `count` threads in this task and its
    /// children (a task-local override; other tasks are not affected).
    public static func withThreads<R>(_ count: Int, _ body: () throws -> R) rethrows -> R {
        precondition(count >= 1, "thread count must be at least 1, got \(count)")
        return try $threadOverride.withValue(count, operation: body)
    }

    /// Calls `body` on disjoint, contiguous ranges covering `0..<count`, concurrently when the
    /// work is large enough.
    ///
    /// - Parameters:
    ///   - count: number of rows.
    ///   - workPerItem: rough scalar operations per row, used to decide how many threads pay off.
    ///   - body: processes one range of rows; must only write state owned by those rows.
    public static func forEachChunk(
        count: Int, workPerItem: Int, _ body: (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let total = count * max(1, workPerItem)
        let chunks = min(currentThreads, count, max(1, total / minimumWorkPerThread))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        let run = { (chunk: Int) in
            let start = count * chunk / chunks
            let end = count * (chunk + 1) / chunks
            if start < end { body(start..<end) }
        }
        if WorkerPool.shared.run(chunks: chunks, run) { return }
        // The pool is busy (another region in flight): hand the chunks to Dispatch.
        withoutActuallyEscaping(run) { run in
            let box = UncheckedSendable(run)
            DispatchQueue.concurrentPerform(iterations: chunks) { box.value($0) }
        }
    }
}

/// Wraps a value that is safe to share for the duration of one `concurrentPerform`.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A raw pointer that chunks of a parallel loop write through at disjoint offsets.
@usableFromInline
struct SharedPointer<Element>: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<Element>
    @usableFromInline init(_ base: UnsafeMutablePointer<Element>) { self.base = base }
}
