import Foundation
import StrobeBLAS

/// OpenBLAS as the tensor core uses it: kernel selection, one thread.
public enum BLAS {
    /// Selects OpenBLAS's kernels for this CPU (once) and returns the core name in use.
    ///
    /// Unless the user set `OPENBLAS_CORETYPE` (whose choice is kept), this switches to the
    /// widest kernel family that the CPU supports and the linked OpenBLAS has, whenever
    /// OpenBLAS's own choice, made from a table of CPU models, is narrower
    /// (``chooseCore(features:openblasChoice:available:)`` is the rule).
    @discardableResult
    public static func prepare() -> String {
        String(cString: strobe_blas_prepare())
    }

    /// The kernel family OpenBLAS uses now ("SkylakeX", "Haswell", ...).
    public static var coreName: String { String(cString: strobe_blas_core_name()) }

    /// The family OpenBLAS picked itself (or that `OPENBLAS_CORETYPE` named), before Strobe's
    /// selection.
    public static var openblasChoice: String { String(cString: strobe_blas_openblas_choice()) }

    /// One sentence saying why ``coreName`` is in use.
    public static var selectionReason: String { String(cString: strobe_blas_selection_reason()) }

    /// The families Strobe may switch to, widest first (Cooperlake, SkylakeX, Haswell, Sandybridge).
    public static var candidateCores: [String] {
        var names: [String] = []
        var p = strobe_blas_candidate_cores()!
        while let name = p.pointee {
            names.append(String(cString: name))
            p += 1
        }
        return names
    }

    /// Whether the linked OpenBLAS carries kernels for `core` (case ignored).
    public static func hasCore(_ core: String) -> Bool { strobe_blas_has_core(core) != 0 }

    /// The CPU features a family needs (empty for a name the rule does not know).
    public static func requirements(of core: String) -> CPUFeatures {
        CPUFeatures(rawValue: UInt32(strobe_blas_core_requirements(core)))
    }

    /// Of ``candidateCores`` plus OpenBLAS's SSE3 baseline (Prescott), those the linked library
    /// has and this CPU runs, widest first: the kernel families worth testing here.
    public static var runnableCores: [String] {
        let cpu = CPUFeatures.current
        return (candidateCores + ["Prescott"]).filter { hasCore($0) && cpu.isSuperset(of: requirements(of: $0)) }
    }

    /// The rule, as a pure function: the kernel family to use on a CPU with `features`, when
    /// OpenBLAS chose `openblasChoice` and the library has the families `available`. Keeps
    /// OpenBLAS's choice unless a candidate the CPU supports and the library has is wider.
    public static func chooseCore(
        features: CPUFeatures, openblasChoice: String, available: [String]
    ) -> (core: String, reason: String) {
        var reason = [CChar](repeating: 0, count: 256)
        // The rule may return `openblasChoice` itself: read the name while its C copy lives.
        let name = openblasChoice.withCString { choice in
            withCStrings(available) { names in
                strobe_blas_choose_core(features.rawValue, choice, names, Int32(names.count), &reason, 256)
                    .map { String(cString: $0) }
            }
        } ?? openblasChoice
        return (name, String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// OpenBLAS's own thread count: always 1 once prepared. Strobe spreads single-threaded BLAS
    /// calls over `Parallel.threads` threads instead, so that results do not depend on the
    /// thread count.
    public static var threads: Int { Int(strobe_blas_threads()) }
}

/// Calls `body` with C copies of `strings` that live for the call.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return body(copies.map { UnsafePointer($0) })
}
