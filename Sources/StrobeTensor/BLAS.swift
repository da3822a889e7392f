import StrobeBLAS

/// OpenBLAS as the tensor core uses it: kernel selection, one thread.
public enum BLAS {
    /// Selects OpenBLAS's fastest kernels for this CPU (once) and returns the core name in use.
    ///
    /// Debian's OpenBLAS picks AVX2 kernels on some AVX-512 CPUs; this switches to its AVX-512
    /// kernels unless the user set `OPENBLAS_CORETYPE`, whose choice is kept.
    @discardableResult
    public static func prepare() -> String {
        String(cString: strobe_blas_prepare())
    }

    /// The kernel family OpenBLAS uses now ("SkylakeX", "Haswell", ...).
    public static var coreName: String { String(cString: strobe_blas_core_name()) }

    /// OpenBLAS's own thread count: always 1 once prepared. Strobe spreads single-threaded BLAS
    /// calls over `Parallel.threads` threads instead, so that results do not depend on the
    /// thread count.
    public static var threads: Int { Int(strobe_blas_threads()) }
}
