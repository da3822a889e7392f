import StrobeBLAS

/// OpenBLAS as the tensor core uses it: kernel selection and thread count.
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

    /// OpenBLAS's thread count.
    public static var threads: Int {
        get { Int(strobe_blas_threads()) }
        set { strobe_blas_set_threads(Int32(max(1, newValue))) }
    }
}
