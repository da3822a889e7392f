#include "strobe_blas.h"

#include <cblas.h>
#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

// Exported by OpenBLAS builds with DYNAMIC_ARCH (Debian's): the kernel table in use and the
// functions that (re)select it. gotoblas_dynamic_init() reads OPENBLAS_CORETYPE.
extern void *gotoblas;
extern void gotoblas_dynamic_init(void);
extern void gotoblas_dynamic_quit(void);
extern char *gotoblas_corename(void);

// MARK: - The rule

enum { SSE3 = STROBE_CPU_SSE3, AVX = STROBE_CPU_AVX, AVX2 = STROBE_CPU_AVX2_FMA,
       AVX512 = STROBE_CPU_AVX512, BF16 = STROBE_CPU_AVX512_BF16 };

/// An OpenBLAS kernel family: its name, how wide its sgemm kernels are (a rank: 0 SSE, 1 AVX,
/// 2 AVX + FMA, 3 AVX2 + FMA, 4 AVX-512, 5 AVX-512 with BF16) and what the CPU needs for it.
typedef struct {
    const char *name;
    int rank;
    unsigned needs;
} core_family;

// Every x86-64 family OpenBLAS 0.3.x names. Rank compares sgemm kernels only: Cooperlake and
// Sapphirerapids run SkylakeX's sgemm and add bf16 routines.
static const core_family families[] = {
    {"Sapphirerapids", 5, SSE3 | AVX | AVX2 | AVX512 | BF16},
    {"Cooperlake", 5, SSE3 | AVX | AVX2 | AVX512 | BF16},
    {"SkylakeX", 4, SSE3 | AVX | AVX2 | AVX512},
    {"Haswell", 3, SSE3 | AVX | AVX2},
    {"Zen", 3, SSE3 | AVX | AVX2},
    {"Excavator", 2, SSE3 | AVX},
    {"Steamroller", 2, SSE3 | AVX},
    {"Piledriver", 2, SSE3 | AVX},
    {"Sandybridge", 1, SSE3 | AVX},
    {"Bulldozer", 1, SSE3 | AVX},
    {"Prescott", 0, SSE3},
    {"Nehalem", 0, SSE3}, {"Dunnington", 0, SSE3}, {"Penryn", 0, SSE3}, {"Core2", 0, SSE3},
    {"Atom", 0, SSE3}, {"Nano", 0, SSE3}, {"Bobcat", 0, SSE3}, {"Barcelona", 0, SSE3},
    {"Opteron_SSE3", 0, SSE3}, {"Opteron", 0, 0}, {"Athlon", 0, 0}, {"Banias", 0, 0},
    {"Northwood", 0, 0}, {"Coppermine", 0, 0}, {"Katmai", 0, 0},
};

// What Strobe switches to, widest first: one family per rank that any vendor's CPU can run.
static const char *const candidates[] = {"Cooperlake", "SkylakeX", "Haswell", "Sandybridge", NULL};

const char *const *strobe_blas_candidate_cores(void) { return candidates; }

static const core_family *family_named(const char *name) {
    if (name == NULL) return NULL;
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (strcasecmp(families[i].name, name) == 0) return &families[i];
    return NULL;
}

unsigned strobe_blas_core_requirements(const char *core) {
    const core_family *f = family_named(core);
    return f ? f->needs : 0;
}

static const char *isa_words(int rank) {
    static const char *words[] = {"SSE", "AVX", "AVX with FMA", "AVX2 with FMA", "AVX-512",
                                  "AVX-512 with BF16"};
    return words[rank];
}

static int listed(const char *name, const char *const *available, int count) {
    for (int i = 0; i < count; i++)
        if (available[i] && strcasecmp(available[i], name) == 0) return 1;
    return 0;
}

const char *strobe_blas_choose_core(unsigned features, const char *openblas_choice,
                                    const char *const *available, int available_count,
                                    char *reason, int reason_size) {
    char scratch[8];
    if (reason == NULL || reason_size <= 0) { reason = scratch; reason_size = sizeof scratch; }
    const core_family *chosen = family_named(openblas_choice);
    if (chosen == NULL) {
        snprintf(reason, (size_t)reason_size,
                 "OpenBLAS chose %s, a kernel family Strobe does not rank; kept",
                 openblas_choice ? openblas_choice : "(none)");
        return openblas_choice;
    }
    const core_family *best = NULL;
    for (int i = 0; candidates[i] != NULL; i++) {
        const core_family *f = family_named(candidates[i]);
        if ((features & f->needs) == f->needs && listed(f->name, available, available_count)) {
            best = f;
            break;
        }
    }
    if (best == NULL || best->rank <= chosen->rank) {
        snprintf(reason, (size_t)reason_size,
                 "OpenBLAS chose %s (%s kernels), already the widest family this CPU runs of those "
                 "the library has",
                 openblas_choice, isa_words(chosen->rank));
        return openblas_choice;
    }
    snprintf(reason, (size_t)reason_size,
             "OpenBLAS chose %s (%s kernels); this CPU has %s, so %s",
             openblas_choice, isa_words(chosen->rank), isa_words(best->rank), best->name);
    return best->name;
}

// MARK: - The linked library

int strobe_blas_has_core(const char *core) {
    if (core == NULL || strlen(core) > 40) return 0;
    char symbol[64] = "gotoblas_";
    size_t n = strlen(symbol);
    for (const char *p = core; *p; p++) symbol[n++] = (char)toupper((unsigned char)*p);
    symbol[n] = 0;
    // A DYNAMIC_ARCH build exports one kernel table per family; families left out of the build
    // are zero-filled placeholders, whose first field (dtb_entries) is 0.
    const int *table = dlsym(RTLD_DEFAULT, symbol);
    return table != NULL && table[0] != 0;
}

static pthread_once_t prepare_once = PTHREAD_ONCE_INIT;
static char openblas_choice[48];
static char selection_reason[256];

/// Loads `core`'s kernel table; returns whether OpenBLAS now uses it. Only before the first
/// BLAS call.
static int load_core(const char *core) {
    setenv("OPENBLAS_CORETYPE", core, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
    const char *now = gotoblas_corename();
    return now != NULL && strcasecmp(now, core) == 0;
}

static void select_kernels(void) {
    // For tests: STROBE_TEST_OPENBLAS_CHOICE makes OpenBLAS start from that family, as if it
    // had chosen it itself (e.g. Prescott, what it picks on CPUs missing from its table).
    const char *simulated = getenv("STROBE_TEST_OPENBLAS_CHOICE");
    if (simulated != NULL && getenv("OPENBLAS_CORETYPE") == NULL) load_core(simulated);
    const char *name = gotoblas_corename();
    snprintf(openblas_choice, sizeof openblas_choice, "%s", name ? name : "unknown");
    const char *forced = getenv("OPENBLAS_CORETYPE");
    if (forced != NULL) {
        snprintf(selection_reason, sizeof selection_reason,
                 "OPENBLAS_CORETYPE=%s is set: OpenBLAS's %s kernels are kept; Strobe chooses by CPU "
                 "features only when it is unset",
                 forced, openblas_choice);
        return;
    }
    const char *available[16];
    int count = 0;
    for (int i = 0; candidates[i] != NULL; i++)
        if (strobe_blas_has_core(candidates[i])) available[count++] = candidates[i];
    const char *target = strobe_blas_choose_core(strobe_cpu_features(), openblas_choice, available,
                                                 count, selection_reason, sizeof selection_reason);
    if (target == NULL || strcasecmp(target, openblas_choice) == 0) return;
    // Reselect the kernel table. No BLAS call is in flight yet (this runs before Strobe's
    // first one), so the switch is safe.
    if (!load_core(target)) {
        const char *now = gotoblas_corename();
        char loaded[48];
        snprintf(loaded, sizeof loaded, "%s", now ? now : "nothing");
        load_core(openblas_choice);  // back to OpenBLAS's own choice, not a fallback it picked
        snprintf(selection_reason, sizeof selection_reason,
                 "OpenBLAS chose %s; switching to %s failed (OpenBLAS loaded %s), so %s is kept",
                 openblas_choice, target, loaded, openblas_choice);
    }
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

const char *strobe_blas_openblas_choice(void) {
    strobe_blas_prepare();
    return openblas_choice;
}

const char *strobe_blas_selection_reason(void) {
    strobe_blas_prepare();
    return selection_reason;
}

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
