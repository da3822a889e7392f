// StrobeBLAS: the one place Strobe touches OpenBLAS.
//
// Debian's OpenBLAS is built for many CPUs and picks its kernels at load time. On some
// AVX-512 CPUs (AMD Zen 4/5) it falls back to the AVX2 "Haswell" kernels, which run at about
// half the speed of its "SKYLAKEX" kernels. strobe_blas_prepare() switches to the AVX-512
// kernels when the CPU has them and the user has not chosen a core type with
// OPENBLAS_CORETYPE, and sets OpenBLAS to one thread: Strobe runs single-threaded BLAS calls
// side by side itself, so that results do not depend on the thread count. It is idempotent and
// thread-safe; every entry point below calls it.
#ifndef STROBE_BLAS_H
#define STROBE_BLAS_H

#ifdef __cplusplus
extern "C" {
#endif

/// Selects the best kernels (once). Returns the core name OpenBLAS now uses.
const char *strobe_blas_prepare(void);

/// The core name OpenBLAS uses ("Haswell", "SkylakeX", ...).
const char *strobe_blas_core_name(void);

/// OpenBLAS's current thread count.
int strobe_blas_threads(void);

/// Row-major C[M,N] = alpha * op(A) * op(B) + beta * C, with op = transpose when trans != 0.
/// lda/ldb/ldc are row strides in elements.
void strobe_sgemm(int transA, int transB, int M, int N, int K, float alpha,
                  const float *A, int lda, const float *B, int ldb, float beta,
                  float *C, int ldc);

#ifdef __cplusplus
}
#endif
#endif
