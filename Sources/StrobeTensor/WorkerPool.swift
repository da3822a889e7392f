import Foundation
import StrobeKernels
import Synchronization

/// Persistent worker threads for `Parallel.forEachChunk`, which spin for a short while between
/// parallel regions instead of sleeping at once.
///
/// A denoiser call runs a hundred or more parallel regions of 20–200 µs each. Handing a region
/// to a sleeping thread (as `DispatchQueue.concurrentPerform` does) costs about 45 µs on the
/// machines measured, more than half of a small region; a worker that is still spinning picks
/// it up in well under a microsecond. Workers spin for ``spinDuration`` after their last
/// region, then sleep until the next.
///
/// A region of `c` chunks runs on the caller and workers 1..<c; the others stay asleep, so a
/// thread limit below the core count keeps its meaning.
///
/// One region runs at a time: a caller that finds the pool busy (another generation in flight,
/// or a region started inside a region) gets `false` from ``run(chunks:_:)`` and runs its
/// region another way. Chunks are claimed in any order by any thread; callers make each
/// chunk's result independent of the thread that computes it.
final class WorkerPool: @unchecked Sendable {
    /// The process's pool: one worker per CPU beyond the first.
    static let shared = WorkerPool(workers: max(0, ProcessInfo.processInfo.activeProcessorCount - 1))

    /// How long an idle worker spins before it sleeps.
    static let spinDuration = Duration.microseconds(300)

    /// One region: the chunks' body and the counters the threads share.
    private final class Job: @unchecked Sendable {
        /// Cleared by the caller before it returns (the body must not outlive its region).
        var body: ((Int) -> Void)?
        let chunks: Int
        let next = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        /// Workers holding the job (between taking it and letting go of its body).
        let active = Atomic<Int>(0)
        init(body: @escaping (Int) -> Void, chunks: Int) {
            self.body = body
            self.chunks = chunks
        }
    }

    let workerCount: Int
    private let busy = Atomic<Bool>(false)
    private let generation = Atomic<Int>(0)
    private let sleeping = Atomic<Int>(0)
    private let condition = NSCondition()
    /// The region in flight; read and written under `condition`'s lock.
    private var current: Job?

    private init(workers: Int) {
        workerCount = workers
        for index in 0..<workers {
            let thread = Thread { [unowned self] in self.workerLoop(index: index + 1) }
            thread.name = "strobe-worker-\(index + 1)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Runs `body(0..<chunks)` on the caller and the workers, returning when every chunk is
    /// done; returns false without running anything when the pool is busy or has no workers.
    func run(chunks: Int, _ body: (Int) -> Void) -> Bool {
        guard workerCount > 0, chunks > 1,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return false }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            let job = Job(body: body, chunks: chunks)
            condition.lock()
            current = job
            condition.unlock()
            generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
            if sleeping.load(ordering: .sequentiallyConsistent) > 0 {
                condition.lock()
                condition.broadcast()
                condition.unlock()
            }
            Self.work(on: job)
            Self.wait { job.finished.load(ordering: .acquiring) >= chunks }
            condition.lock()
            current = nil
            condition.unlock()
            // A worker that took the job may still hold its body; wait until it lets go.
            Self.wait { job.active.load(ordering: .acquiring) == 0 }
            job.body = nil
        }
        return true
    }

    /// Spins until `done()`, then yields the core between checks: a worker descheduled
    /// mid-chunk (an oversubscribed machine, a preempted virtual CPU) is not waited for at full
    /// burn.
    private static func wait(_ done: () -> Bool) {
        var spins = 0
        while !done() {
            spins += 1
            if spins < 1 << 16 { strobe_cpu_relax() } else { sched_yield() }
        }
    }

    /// Claims and runs chunks of `job` until none is left.
    @inline(never)
    private static func work(on job: Job) {
        guard let body = job.body else { return }
        while true {
            let chunk = job.next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard chunk < job.chunks else { return }
            body(chunk)
            job.finished.wrappingAdd(1, ordering: .releasing)
        }
    }

    /// Worker `index` (1-based; the caller is 0) runs chunks of regions that have more than
    /// `index` chunks; a region with fewer (a lower thread limit) leaves it asleep.
    private func workerLoop(index: Int) {
        let clock = ContinuousClock()
        var seen = generation.load(ordering: .acquiring)
        var spinFor = Self.spinDuration
        while true {
            // Spin for a while, then sleep until a new region is published.
            let start = clock.now
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                strobe_cpu_relax()
                spins += 1
                if spins & 255 == 0, clock.now - start > spinFor {
                    condition.lock()
                    sleeping.wrappingAdd(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen { condition.wait() }
                    sleeping.wrappingSubtract(1, ordering: .sequentiallyConsistent)
                    condition.unlock()
                }
            }
            seen = generation.load(ordering: .acquiring)
            condition.lock()
            let published = current
            let job = published.flatMap { $0.chunks > index ? $0 : nil }
            job?.active.wrappingAdd(1, ordering: .acquiringAndReleasing)
            condition.unlock()
            guard let job else {
                // Not needed for this region (fewer chunks than workers): back to sleep at once.
                // A region already finished (published is nil): keep spinning for the next.
                spinFor = published == nil ? Self.spinDuration : .zero
                continue
            }
            spinFor = Self.spinDuration
            Self.work(on: job)
            job.active.wrappingSubtract(1, ordering: .releasing)
        }
    }
}
