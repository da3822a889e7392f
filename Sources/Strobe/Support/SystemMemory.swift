import Foundation

/// The memory this process can still take before the system kills it.
///
/// On Linux: `MemAvailable` from `/proc/meminfo` (free memory plus what the kernel can reclaim
/// without swapping), lowered to the room left under the process's control-group memory limit
/// when it has one (containers): the limit minus the usage, with the reclaimable file cache
/// (`inactive_file`) counted as free. Elsewhere, the free physical pages (`sysconf`).
public enum SystemMemory {
    /// Bytes available now, or nil when the system does not say.
    public static func available() -> Int? {
        let physical = meminfo("MemAvailable") ?? sysconfAvailable()
        guard let cgroup = cgroupRoom() else { return physical }
        return physical.map { min($0, cgroup) } ?? cgroup
    }

    /// Total physical memory in bytes (`MemTotal`, else `sysconf`), or nil when unknown.
    public static func total() -> Int? {
        if let total = meminfo("MemTotal") { return total }
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && size > 0 ? pages * size : nil
    }

    /// A `/proc/meminfo` field in bytes (the file gives kB).
    static func meminfo(_ key: String) -> Int? {
        guard let text = text(of: "/proc/meminfo") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }

    private static func sysconfAvailable() -> Int? {
        #if os(Linux)
        let pages = sysconf(Int32(_SC_AVPHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && size > 0 ? pages * size : nil
        #else
        return nil
        #endif
    }

    /// Room under the control group's memory limit, or nil without a (finite) limit.
    static func cgroupRoom() -> Int? {
        // cgroup v2 (the process's own group, or the namespace root), then v1.
        var groups: [(limit: String, usage: String, stat: String, inactive: String)] = []
        if let text = text(of: "/proc/self/cgroup"),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) {
            let path = "/sys/fs/cgroup" + line.dropFirst(3)
            groups.append((path + "/memory.max", path + "/memory.current", path + "/memory.stat", "inactive_file"))
        }
        groups.append(("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current", "/sys/fs/cgroup/memory.stat",
                       "inactive_file"))
        groups.append(("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes",
                       "/sys/fs/cgroup/memory/memory.stat", "total_inactive_file"))
        for group in groups {
            // "max" (v2) or a huge number (v1) means no limit.
            guard let limit = number(group.limit), limit < 1 << 60, let usage = number(group.usage) else { continue }
            let reclaimable = statField(group.stat, group.inactive) ?? 0
            return max(0, limit - usage + reclaimable)
        }
        return nil
    }

    /// A whole (pseudo-)file as text. Read to the end: `/proc` and `/sys` files report a size
    /// of 0 or 4096 whatever they hold, so readers that trust the size may stop early.
    static func text(of path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd() else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    private static func number(_ path: String) -> Int? {
        guard let text = text(of: path) else { return nil }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private static func statField(_ path: String, _ key: String) -> Int? {
        guard let text = text(of: path) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == key { return Int(fields[1]) }
        }
        return nil
    }
}
