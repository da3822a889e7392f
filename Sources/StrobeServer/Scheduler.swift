import Foundation
import Logging
import ServiceLifecycle
import Strobe

/// One engine, one queue: work runs one item at a time, in arrival order, each item using all
/// of the engine's threads (on a CPU, running two at once only splits the same cores).
///
/// Admission is bounded twice: by the number of waiting items (``ServerSettings/queueCapacity``)
/// and by the engine's memory estimate of everything admitted and unfinished
/// (``ServerSettings/memoryBudgetBytes``). Either full is a 429 with `Retry-After`.
///
/// Determinism: every image depends only on its request (prompt, seed, size, sampler, steps),
/// never on what else is queued; requests are not batched with each other, so the answer to a
/// request with a seed is the image `strobe generate` makes with the same settings.
///
/// On graceful shutdown (SIGTERM) it stops admitting (503), cancels what waits, lets the running
/// item finish, and returns.
actor Scheduler: Service {
    private let engine: StrobeEngine
    private let settings: ServerSettings
    private let metrics: ServerMetrics
    private let logger: Logger
    private var queue: [WorkItem] = []
    private var running: WorkItem?
    private var draining = false
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    /// Seconds per network call, smoothed, for `Retry-After`.
    private var secondsPerCall = 0.1

    init(engine: StrobeEngine, settings: ServerSettings, metrics: ServerMetrics, logger: Logger) {
        self.engine = engine
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        (wake, wakeContinuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Whether shutdown has begun (readiness is then false).
    var isDraining: Bool { draining }

    /// Admits an item or refuses it (503 draining, 422 too large alone, 429 full).
    func submit(_ item: WorkItem) throws(APIError) {
        if draining { throw APIError.shuttingDown }
        if item.task.memoryBytes > settings.memoryBudgetBytes {
            throw APIError(
                .unprocessableContent,
                "this request needs about \(MemoryEstimate.format(item.task.memoryBytes)); the server's budget is \(MemoryEstimate.format(settings.memoryBudgetBytes)): ask for fewer or smaller images",
                param: "n", code: "insufficient_memory")
        }
        pruneQueue()
        if queue.count >= settings.queueCapacity {
            throw APIError.busy("the queue is full (\(settings.queueCapacity) requests waiting); retry later", retryAfter: retryAfter())
        }
        let inUse = (queue + (running.map { [$0] } ?? [])).reduce(0) { $0 + $1.task.memoryBytes }
        if inUse + item.task.memoryBytes > settings.memoryBudgetBytes {
            throw APIError.busy(
                "the server's memory budget is taken by the work in hand; retry later", retryAfter: retryAfter(),
                code: "memory_busy")
        }
        queue.append(item)
        publishDepth()
        wakeContinuation.yield()
    }

    /// Items ahead of `item` (0: next or running), nil when it is no longer waiting.
    func position(of item: WorkItem) -> Int? {
        if running === item { return 0 }
        return queue.filter { $0.status == .queued }.firstIndex { $0 === item }
    }

    /// Runs items until shutdown.
    func run() async throws {
        await withGracefulShutdownHandler {
            for await _ in wake {
                while let item = nextItem() { await execute(item) }
                if draining { break }
            }
        } onGracefulShutdown: {
            Task { await self.drain() }
        }
    }

    /// Stops admitting and cancels the waiting items; the running one finishes.
    func drain() {
        guard !draining else { return }
        draining = true
        logger.info("draining", metadata: ["waiting": "\(queue.count)", "running": "\(running != nil)"])
        for item in queue { item.cancel() }
        queue.removeAll()
        publishDepth()
        wakeContinuation.yield()
    }

    private func nextItem() -> WorkItem? {
        while !queue.isEmpty {
            let item = queue.removeFirst()
            if item.start() {
                running = item
                publishDepth()
                return item
            }
        }
        publishDepth()
        return nil
    }

    private func execute(_ item: WorkItem) async {
        let start = ContinuousClock.now
        let plan = item.task.plan
        let progress: ProgressHandler = { [metrics] report in
            metrics.madeCalls(1)
            item.report(completedCalls: report.completedCalls, totalCalls: report.totalCalls)
            return item.isCancelRequested ? .cancel : .proceed
        }
        let previewSteps = item.task.previewSteps
        let preview: PreviewHandler? =
            item.wantsPreviews && !previewSteps.isEmpty ? { @Sendable in item.report(preview: $0) } : nil
        let outcome: WorkOutcome
        do {
            let result = try await engine.generate(plan, progress: progress, preview: preview, previewSteps: previewSteps)
            metrics.madeImages(result.images.count)
            outcome = .completed(FinishedImages(result))
        } catch .cancelled {
            outcome = .cancelled
        } catch {
            outcome = .failed(APIError(error))
        }
        let elapsed = ContinuousClock.now - start
        // The engine reports steps; a guided step is two passes, so the rate is per pass.
        let steps = max(1, item.snapshot.completedCalls)
        let calls = max(1, steps * item.task.totalPasses / max(item.task.totalCalls, 1))
        let perCall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        secondsPerCall = 0.8 * secondsPerCall + 0.2 * perCall / Double(calls)
        item.finish(outcome)
        running = nil
        publishDepth()
        logger.info("work finished", metadata: [
            "id": "\(item.id)", "kind": "\(item.task.kind.rawValue)", "status": "\(item.status.rawValue)",
            "images": "\(plan.count)", "calls": "\(calls)", "seconds": "\(String(format: "%.3f", perCall))",
        ])
    }

    /// Drops cancelled items from the queue.
    private func pruneQueue() {
        queue.removeAll { $0.status != .queued }
    }

    /// The wait, in whole seconds, for the work in hand at the recent speed.
    private func retryAfter() -> Int {
        let calls = queue.reduce(0) { $0 + $1.task.totalPasses } + (running?.task.totalPasses ?? 0)
        return max(1, Int((Double(calls) * secondsPerCall).rounded(.up)))
    }

    private func publishDepth() {
        metrics.setQueue(depth: queue.count, running: running == nil ? 0 : 1)
    }
}
