import Synchronization

/// A small least-recently-used cache of prepared prompt conditionings (text encoder output and
/// each block's cross-attention keys and values), keyed by the prompt's token ids, so that
/// requests repeating a prompt skip text encoding. Thread-safe; results are identical with and
/// without it, because a hit returns exactly what the encoder computed for those ids.
final class ConditioningCache: Sendable {
    private struct Entry {
        let ids: [Int32]
        let value: PreparedPrompt
        let floats: Int
    }

    /// The most floats (keys, values and pooled text) held over all entries.
    let capacityFloats: Int
    private let entries = Mutex<[Entry]>([])  // most recently used last

    /// A cache holding at most `capacityFloats` floats; 0 disables it.
    init(capacityFloats: Int) {
        self.capacityFloats = max(0, capacityFloats)
    }

    /// The conditioning cached for `ids`, now the most recently used; nil on a miss.
    func value(for ids: [Int32]) -> PreparedPrompt? {
        entries.withLock { entries in
            guard let index = entries.firstIndex(where: { $0.ids == ids }) else { return nil }
            let entry = entries.remove(at: index)
            entries.append(entry)
            return entry.value
        }
    }

    /// Stores `value` for `ids`, evicting the least recently used entries to stay within capacity
    /// (a value larger than the whole capacity is not stored).
    func insert(_ value: PreparedPrompt, for ids: [Int32]) {
        let floats = value.floatCount
        guard floats <= capacityFloats else { return }
        entries.withLock { entries in
            entries.removeAll { $0.ids == ids }
            var total = entries.reduce(0) { $0 + $1.floats } + floats
            while total > capacityFloats, !entries.isEmpty {
                total -= entries.removeFirst().floats
            }
            entries.append(Entry(ids: ids, value: value, floats: floats))
        }
    }

    /// How many prompts are cached.
    var count: Int { entries.withLock { $0.count } }
}
