// StrobeBLAS: the one place Strobe touches OpenBLAS.
//
// Debian's OpenBLAS is built for many CPUs and picks its kernels at load time from a table of
// CPU models. A CPU missing from that table gets narrower kernels than it can run: AMD Zen 4/5
// get the AVX2 "Haswell" kernels, recent Intel parts the SSE3 "Prescott" ones (10x slower).
// strobe_blas_prepare() therefore decides by the CPU's features, not its name: when the user
// has not chosen a core type with OPENBLAS_CORETYPE, it switches to the widest kernel family
// that the CPU supports and the linked OpenBLAS has, whenever OpenBLAS's own choice is
// narrower (strobe_blas_choose_core, a pure function, holds the rule). It also sets OpenBLAS
// to one thread: Strobe runs single-threaded BLAS calls side by side itself, so that results do
// not depend on the thread count. It is idempotent and thread-safe; every entry point below
// calls it.
#ifndef STROBE_BLAS_H
#define STROBE_BLAS_H

#include "strobe_cpu.h"

#ifdef __cplusplus
extern "C" {
#endif

/// The rule, as a pure function: the kernel family to use, given the CPU's features
/// (STROBE_CPU_* flags), the family OpenBLAS chose itself (`openblas_choice`, a name as
/// gotoblas_corename() gives it) and the families the linked OpenBLAS has (`available`,
/// `available_count` names; case is ignored). Returns `openblas_choice` when it is already at
/// least as wide as anything the CPU supports among `available`, else the name of the widest
/// such family, from a static table. Writes one sentence saying why into `reason`
/// (`reason_size` bytes, NUL-terminated, truncated if needed; may be NULL).
const char *strobe_blas_choose_core(unsigned features, const char *openblas_choice,
                                    const char *const *available, int available_count,
                                    char *reason, int reason_size);

/// The kernel families Strobe may switch to, widest first, NULL-terminated: the candidates of
/// strobe_blas_choose_core.
const char *const *strobe_blas_candidate_cores(void);

/// STROBE_CPU_* flags a kernel family needs ("SkylakeX" → AVX512); 0 for a name the rule
/// does not know.
unsigned strobe_blas_core_requirements(const char *core);

/// Whether the linked OpenBLAS carries kernels for `core` (a name as OPENBLAS_CORETYPE takes
/// it, case ignored).
int strobe_blas_has_core(const char *core);

/// Selects the kernels (once). Returns the core name OpenBLAS now uses.
const char *strobe_blas_prepare(void);

/// The core name OpenBLAS uses ("Haswell", "SkylakeX", ...).
const char *strobe_blas_core_name(void);

/// The family OpenBLAS picked by itself (or the one OPENBLAS_CORETYPE named), before Strobe's
/// selection.
const char *strobe_blas_openblas_choice(void);

/// One sentence saying why the kernels in use were chosen.
const char *strobe_blas_selection_reason(void);

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
