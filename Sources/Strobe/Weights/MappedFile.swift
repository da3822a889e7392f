#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory. The mapping lives as long as the object.
///
/// The bytes are never written, so the object can be shared between tasks.
final class MappedFile: @unchecked Sendable {
    /// The file's bytes.
    let bytes: UnsafeRawBufferPointer

    /// Maps `path`; the error is one ``WeightsProblem`` naming the system's reason.
    init(path: String) throws(WeightsError) {
        func fail(_ reason: String) -> WeightsError {
            WeightsError(path: path, problems: [.unreadable(reason: reason)])
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw fail(String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw fail(String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw fail((info.st_mode & S_IFMT) == S_IFDIR ? "it is a directory" : "not a regular file")
        }
        let size = Int(info.st_size)
        guard size > 0 else {
            throw WeightsError(path: path, problems: [.tooSmall(size: 0)])
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw fail(String(cString: strerror(errno)))
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    /// Drops this process's mapping of the pages that reading `range` (byte offsets) may have
    /// mapped; a later read faults them back in from the file (or the page cache). Loading
    /// releases each tensor's bytes once it is converted, so the file and the fp32 weights are not
    /// resident together.
    ///
    /// A read fault maps more than its own page: the kernel maps pages around it that are in the
    /// page cache, and with large folios the whole folio (up to 2 MiB, aligned to its size). So
    /// the range released is `range` widened to 2 MiB boundaries: it holds every page a read of
    /// `range` mapped. Pages of neighbouring tensors in it are only read again from memory.
    func releasePages(in range: Range<Int>) {
        let window = 2 << 20
        guard let base = bytes.baseAddress, !range.isEmpty else { return }
        let start = range.lowerBound / window * window
        let end = min(bytes.count, (range.upperBound + window - 1) / window * window)
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, Int32(MADV_DONTNEED))
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
    }
}
