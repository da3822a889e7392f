import Foundation
import Strobe
import Synchronization

/// What happened to a piece of work, as its watchers see it.
enum WorkEvent: Sendable {
    /// Network calls done of the total.
    case progress(completedCalls: Int, totalCalls: Int)
    /// The pictures after a step (only for work that asked for previews).
    case preview(GenerationPreview)
    /// The end: the images, an error, or a cancellation.
    case finished(WorkOutcome)
}

enum WorkOutcome: Sendable {
    case completed(FinishedImages)
    case failed(APIError)
    case cancelled
}

/// What a finished request keeps: the PNGs and their seeds with the settings, not the pixels
/// (a finished job may be kept for minutes).
struct FinishedImages: Sendable {
    struct Image: Sendable {
        let seed: UInt64
        let png: [UInt8]
    }

    let prompt: String
    let size: ImageSize
    let sampler: String
    let steps: Int
    let promptTokens: Int
    let images: [Image]

    init(_ result: GenerationResult) {
        prompt = result.plan.prompt
        size = result.plan.size
        sampler = result.plan.sampler.name
        steps = result.plan.steps
        promptTokens = result.plan.promptTokenCount
        images = result.images.map { Image(seed: $0.seed, png: $0.png) }
    }

    var pngBytes: Int { images.reduce(0) { $0 + $1.png.count } }
}

/// One request's work from admission to its end: its state (for `GET /v1/jobs/{id}`), a
/// cancellation flag the engine's progress handler reads between network calls, and the
/// events its watchers (a waiting request, a stream) receive.
final class WorkItem: Sendable {
    enum Status: String, Sendable {
        case queued, running, completed, failed, cancelled
    }

    struct State: Sendable {
        var status = Status.queued
        var completedCalls = 0
        var outcome: WorkOutcome?
        var finishedAt: ContinuousClock.Instant?
        var cancelRequested = false
        var watchers: [Int: AsyncStream<WorkEvent>.Continuation] = [:]
        var nextWatcher = 0
    }

    let id: String
    let task: ImageTask
    /// Unix time of admission (the `created` of OpenAI's answers).
    let created: Int
    /// Whether watchers want ``WorkEvent/preview(_:)`` (a stream): decoding previews costs time.
    var wantsPreviews: Bool { task.stream }
    private let state = Mutex(State())
    private let response = Mutex<ImagesResponse?>(nil)

    init(task: ImageTask, prefix: String) {
        self.id = prefix + RandomID.make()
        self.task = task
        self.created = Int(Date().timeIntervalSince1970)
    }

    /// The response of a finished job, made once (so `url` results are stored once).
    func cachedResponse(_ make: () -> ImagesResponse) -> ImagesResponse {
        response.withLock { cached in
            if let cached { return cached }
            let made = make()
            cached = made
            return made
        }
    }

    var snapshot: State { state.withLock { $0 } }
    var status: Status { state.withLock { $0.status } }
    var isCancelRequested: Bool { state.withLock { $0.cancelRequested } }

    /// Subscribes to the item's events; a finished item yields its outcome at once. A watcher
    /// that falls behind (a stream whose client reads slowly or not at all) keeps only the
    /// newest few events: the last, ``WorkEvent/finished(_:)``, is never dropped.
    func events() -> AsyncStream<WorkEvent> {
        let (stream, continuation) = AsyncStream<WorkEvent>.makeStream(bufferingPolicy: .bufferingNewest(8))
        let finished: WorkOutcome? = state.withLock { state in
            if let outcome = state.outcome { return outcome }
            let key = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[key] = continuation
            continuation.onTermination = { [weak self] _ in
                self?.state.withLock { _ = $0.watchers.removeValue(forKey: key) }
            }
            return nil
        }
        if let finished {
            continuation.yield(.finished(finished))
            continuation.finish()
        }
        return stream
    }

    /// Waits for the outcome.
    func outcome() async -> WorkOutcome {
        for await event in events() {
            if case .finished(let outcome) = event { return outcome }
        }
        return state.withLock { $0.outcome } ?? .cancelled
    }

    /// Asks the work to stop: a queued item ends now, a running one after its current network
    /// call. Returns false when the item had already finished or been asked to stop.
    @discardableResult
    func cancel() -> Bool {
        let queued: Bool? = state.withLock { state in
            guard state.outcome == nil, !state.cancelRequested else { return nil }
            state.cancelRequested = true
            return state.status == .queued
        }
        guard let queued else { return false }
        if queued { finish(.cancelled) }
        return true
    }

    /// Marks the item running; false when it was cancelled while queued.
    func start() -> Bool {
        state.withLock { state in
            guard state.outcome == nil, !state.cancelRequested else { return false }
            state.status = .running
            return true
        }
    }

    func report(completedCalls: Int, totalCalls: Int) {
        broadcast(.progress(completedCalls: completedCalls, totalCalls: totalCalls)) { $0.completedCalls = completedCalls }
    }

    func report(preview: GenerationPreview) {
        broadcast(.preview(preview)) { _ in }
    }

    /// Records the outcome (once) and tells every watcher.
    func finish(_ outcome: WorkOutcome) {
        let watchers: [AsyncStream<WorkEvent>.Continuation] = state.withLock { state in
            guard state.outcome == nil else { return [] }
            state.outcome = outcome
            state.finishedAt = .now
            switch outcome {
            case .completed: state.status = .completed
            case .failed: state.status = .failed
            case .cancelled: state.status = .cancelled
            }
            defer { state.watchers = [:] }
            return Array(state.watchers.values)
        }
        for watcher in watchers {
            watcher.yield(.finished(outcome))
            watcher.finish()
        }
    }

    private func broadcast(_ event: WorkEvent, update: (inout State) -> Void) {
        let watchers = state.withLock { state in
            update(&state)
            return Array(state.watchers.values)
        }
        for watcher in watchers { watcher.yield(event) }
    }
}

/// Unguessable identifiers: 128 random bits from the system's generator, as hex.
enum RandomID {
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let value = generator.next() as UInt64
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }
}
