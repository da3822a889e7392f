import Foundation

/// The memory this process uses, from `/proc/self/status` (Linux) or `getrusage`.
public enum ProcessMemory {
    /// Peak resident set size in MiB: `VmHWM`, else `getrusage`'s `ru_maxrss`.
    public static func peakResidentMiB() -> Double {
        if let kib = statusField("VmHWM") { return kib / 1024 }
        var usage = rusage()
        #if canImport(Glibc)
        let who = __rusage_who_t(RUSAGE_SELF.rawValue)
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return 0 }
        return Double(usage.ru_maxrss) / 1024                                      // KiB on Linux
    }

    /// A `kB` field of `/proc/self/status`, in KiB.
    static func statusField(_ name: String) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        return parseStatusField(name, in: text)
    }

    /// The value of `name:   1234 kB` in `status` text, in KiB.
    static func parseStatusField(_ name: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let fields = line.dropFirst(name.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.first.flatMap { Double($0) }
        }
        return nil
    }
}
