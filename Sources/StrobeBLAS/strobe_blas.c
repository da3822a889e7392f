#include "strobe_blas.h"

#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

// Exported by OpenBLAS builds with DYNAMIC_ARCH (Debian's): the kernel table in use and the
// functions that (re)select it. gotoblas_dynamic_init() reads OPENBLAS_CORETYPE.
extern void *gotoblas;
extern void gotoblas_dynamic_init(void);
extern void gotoblas_dynamic_quit(void);
extern char *gotoblas_corename(void);

static pthread_once_t prepare_once = PTHREAD_ONCE_INIT;

static int cpu_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

static void select_kernels(void) {
    if (getenv("OPENBLAS_CORETYPE") != NULL) return;  // the user's choice wins
    if (!cpu_has_avx512()) return;
    const char *name = gotoblas_corename();
    if (name == NULL || strcmp(name, "Haswell") != 0 && strcmp(name, "Zen") != 0) return;
    // Reselect the kernel table with the AVX-512 kernels. No BLAS call is in flight yet
    // (this runs before Strobe's first one), so the switch is safe.
    setenv("OPENBLAS_CORETYPE", "SKYLAKEX", 0);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
}

static void prepare(void) {
    select_kernels();
    // Strobe parallelises around single-threaded BLAS calls (results then do not depend on the
    // thread count); OpenBLAS's own threads would only oversubscribe the cores.
    openblas_set_num_threads(1);
}

const char *strobe_blas_prepare(void) {
    pthread_once(&prepare_once, prepare);
    return gotoblas_corename();
}

const char *strobe_blas_core_name(void) { return gotoblas_corename(); }

int strobe_blas_threads(void) {
    strobe_blas_prepare();
    return openblas_get_num_threads();
}

void strobe_sgemm(int transA, int transB, int M, int N, int K, float alpha,
                  const float *A, int lda, const float *B, int ldb, float beta,
                  float *C, int ldc) {
    strobe_blas_prepare();
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta,
                C, ldc);
}
