import Synchronization

/// What a lookup by id found.
enum Lookup<Value> {
    case found(Value)
    /// Known once, but expired or evicted (410).
    case gone
    /// Never known (404).
    case unknown
}

/// Ids that existed and were dropped, remembered (up to a bound) so that they answer 410
/// rather than 404.
struct Tombstones {
    private var set: Set<String> = []
    private var order: [String] = []
    let limit: Int

    init(limit: Int = 65_536) { self.limit = limit }

    mutating func insert(_ id: String) {
        guard set.insert(id).inserted else { return }
        order.append(id)
        if order.count > limit { set.remove(order.removeFirst()) }
    }

    func contains(_ id: String) -> Bool { set.contains(id) }
}

/// The jobs of `POST /v1/jobs`: kept while unfinished, then for ``ServerSettings/jobRetention``
/// and at most ``ServerSettings/maxFinishedJobs`` of them (the oldest finished go first).
final class JobStore: Sendable {
    private struct State {
        var jobs: [String: WorkItem] = [:]
        var order: [String] = []
        var dropped = Tombstones()
    }

    private let state = Mutex(State())
    private let retention: Duration
    private let maxFinished: Int

    init(retention: Duration, maxFinished: Int) {
        self.retention = retention
        self.maxFinished = maxFinished
    }

    func add(_ item: WorkItem) {
        state.withLock { state in
            state.jobs[item.id] = item
            state.order.append(item.id)
        }
        sweep()
    }

    func get(_ id: String) -> Lookup<WorkItem> {
        sweep()
        return state.withLock { state in
            if let item = state.jobs[id] { return .found(item) }
            return state.dropped.contains(id) ? .gone : .unknown
        }
    }

    /// Drops finished jobs past their retention, then the oldest finished beyond the limit.
    func sweep(now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            var finished: [String] = []
            for id in state.order {
                guard let item = state.jobs[id], let at = item.snapshot.finishedAt else { continue }
                if now - at > retention {
                    state.jobs[id] = nil
                    state.dropped.insert(id)
                } else {
                    finished.append(id)
                }
            }
            for id in finished.dropLast(maxFinished) {
                state.jobs[id] = nil
                state.dropped.insert(id)
            }
            state.order.removeAll { state.jobs[$0] == nil }
        }
    }
}

/// PNGs of `url` results, served from memory under unguessable ids for
/// ``ServerSettings/imageRetention``, at most ``ServerSettings/maxStoredImageBytes`` in all
/// (the oldest go first). Nothing touches the disk.
final class ImageStore: Sendable {
    private struct Entry {
        let png: [UInt8]
        let expires: ContinuousClock.Instant
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var order: [String] = []
        var bytes = 0
        var dropped = Tombstones()
    }

    private let state = Mutex(State())
    private let retention: Duration
    private let maxBytes: Int

    init(retention: Duration, maxBytes: Int) {
        self.retention = retention
        self.maxBytes = maxBytes
    }

    /// Stores a PNG and returns its id.
    func put(_ png: [UInt8]) -> String {
        let id = RandomID.make()
        state.withLock { state in
            state.entries[id] = Entry(png: png, expires: .now + retention)
            state.order.append(id)
            state.bytes += png.count
            Self.evict(&state, maxBytes: maxBytes, now: .now)
        }
        return id
    }

    func get(_ id: String) -> Lookup<[UInt8]> {
        state.withLock { state in
            Self.evict(&state, maxBytes: maxBytes, now: .now)
            if let entry = state.entries[id] { return .found(entry.png) }
            return state.dropped.contains(id) ? .gone : .unknown
        }
    }

    private static func evict(_ state: inout State, maxBytes: Int, now: ContinuousClock.Instant) {
        while let first = state.order.first, let entry = state.entries[first],
              entry.expires <= now || state.bytes > maxBytes {
            state.order.removeFirst()
            state.entries[first] = nil
            state.bytes -= entry.png.count
            state.dropped.insert(first)
        }
    }
}
