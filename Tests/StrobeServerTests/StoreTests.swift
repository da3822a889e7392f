import Foundation
import Hummingbird
import Testing
@testable import StrobeServer

typealias TestContext = BasicRequestContext

/// The in-memory stores: expiry answers "gone" (410), never-known ids "unknown" (404).
struct StoreTests {
    @Test func imagesExpireAndAreEvictedOldestFirst() async throws {
        let store = ImageStore(retention: .milliseconds(200), maxBytes: 10)
        let a = store.put([1, 2, 3, 4, 5, 6])
        guard case .found(let bytes) = store.get(a) else { Issue.record("fresh image not found"); return }
        #expect(bytes == [1, 2, 3, 4, 5, 6])
        let b = store.put([7, 8, 9, 10, 11, 12])                              // 12 bytes > 10: a goes
        guard case .gone = store.get(a) else { Issue.record("evicted image not gone"); return }
        guard case .found = store.get(b) else { Issue.record("newest image evicted"); return }
        try await Task.sleep(for: .milliseconds(300))
        guard case .gone = store.get(b) else { Issue.record("expired image still served"); return }
        guard case .unknown = store.get(RandomID.make()) else { Issue.record("unknown id not unknown"); return }
    }

    @Test func randomIDsAre128BitHex() {
        let ids = (0..<100).map { _ in RandomID.make() }
        #expect(Set(ids).count == 100)
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
    }

    @Test func tombstonesForgetTheOldestBeyondTheirLimit() {
        var tombstones = Tombstones(limit: 2)
        tombstones.insert("a")
        tombstones.insert("b")
        tombstones.insert("c")
        #expect(!tombstones.contains("a"))
        #expect(tombstones.contains("b") && tombstones.contains("c"))
    }
}
