#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What identifies one version of a file: device, inode, size and modification time. Two
/// equal values taken before and after reading a file mean nobody replaced, truncated or
/// rewrote it in between (a rewrite moves the modification time).
struct FileIdentity: Equatable, Sendable, CustomStringConvertible {
    let device: UInt64
    let inode: UInt64
    let size: Int
    let modified: timespec

    /// The identity of the file at `path` (links followed), or nil if it cannot be read.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int(info.st_size)
        #if canImport(Darwin)
        modified = info.st_mtimespec
        #else
        modified = info.st_mtim
        #endif
    }

    static func == (a: FileIdentity, b: FileIdentity) -> Bool {
        a.device == b.device && a.inode == b.inode && a.size == b.size
            && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
    }

    var description: String { "\(size) bytes, inode \(inode)" }

    /// Why `later` is not the same version as `self`, in words.
    func difference(to later: FileIdentity?) -> String {
        guard let later else { return "it can no longer be read" }
        if later.device != device || later.inode != inode { return "it was replaced by another file" }
        if later.size != size { return "its size went from \(size) to \(later.size) bytes" }
        return "it was rewritten"
    }
}

extension FileIdentity {
    /// Throws ``WeightsProblem/changedWhileLoading(reason:)`` when the file at `path` is no
    /// longer the version `self` describes.
    func checkUnchanged(path: String) throws(WeightsError) {
        let now = FileIdentity(path: path)
        guard now != self else { return }
        throw WeightsError(path: path, problems: [.changedWhileLoading(reason: difference(to: now))])
    }
}
