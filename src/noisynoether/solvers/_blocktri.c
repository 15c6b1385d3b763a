/*
 * Block-tridiagonal Cholesky solve as an XLA FFI handler (CPU), callable from inside jit.
 *
 * Why: the damped Newton step of the path solvers solves H dx = -g with H block tridiagonal
 * (M blocks of n x n). On the CPU, LAPACK's banded Cholesky behind jax.pure_callback costs
 * ~0.3-0.5 ms per call at M = 1000, n = 2, almost all of it the Python round trip; this kernel
 * does the same O(M n^3) factorisation in ~40 us without leaving XLA.
 *
 * Operands (float64, row major):  B (..., M, n, n)   diagonal blocks (lower triangle read)
 *                                 C (..., M-1, n, n) C[k] couples block k (rows) to k+1 (cols)
 *                                 r (..., M, n)      right-hand side
 * Results:                        x (..., M, n)      solution of H x = r
 *                                 ok (...)           bool: H positive definite, x finite
 * Leading (batch) dimensions are looped over.
 *
 * Algorithm: H = L L^T with block-lower L: diagonal blocks L_k (lower triangular) and
 * sub-diagonal blocks W_k^T, where W_k = L_{k-1}^-1 C_{k-1} and L_k L_k^T = B_k - W_k^T W_k.
 * Then L y = r (forward) and L^T x = y (backward). A pivot that is not > 0 (or not finite)
 * means H is not positive definite: ok = false and x = 0.
 *
 * The few XLA FFI C-ABI structs used are declared below (the layout of xla/ffi/api/c_api.h,
 * API version 0.x: fields are only ever appended, and every struct starts with its size), so
 * building needs no JAX headers. The handler answers XLA's metadata query with the API
 * version it was written against and, at execution, never returns an error object: failures
 * are reported through `ok`, so the kernel never needs XLA's error-creation API.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- the XLA FFI C ABI (subset) ---------------------------------------------------------- */

typedef struct NNExtBase {
    size_t struct_size;
    int type; /* 1 = metadata extension */
    struct NNExtBase *next;
} NNExtBase;

typedef struct {
    size_t struct_size;
    NNExtBase *extension_start;
    int major_version;
    int minor_version;
} NNApiVersion;

typedef struct {
    size_t struct_size;
    NNApiVersion api_version;
    uint32_t traits;
} NNMetadata;

typedef struct {
    NNExtBase extension_base;
    NNMetadata *metadata;
} NNMetadataExt;

typedef struct {
    size_t struct_size;
    NNExtBase *extension_start;
    int dtype; /* 1 = PRED, 12 = F64 */
    void *data;
    int64_t rank;
    int64_t *dims;
} NNBuffer;

typedef struct {
    size_t struct_size;
    NNExtBase *extension_start;
    int64_t size;
    int *types;
    void **items;
} NNList;

typedef struct {
    size_t struct_size;
    NNExtBase *extension_start;
    const void *api;
    void *ctx;
    int stage; /* 3 = execute */
    NNList args;
    NNList rets;
} NNCallFrame;

#define NN_DTYPE_PRED 1
#define NN_DTYPE_F64 12
#define NN_STAGE_EXECUTE 3
#define NN_EXT_METADATA 1
/* The C-ABI version these declarations follow; XLA accepts handlers built for older minors. */
#define NN_FFI_MAJOR 0
#define NN_FFI_MINOR 1

/* ---- the numerics ------------------------------------------------------------------------ */

/* In-place lower Cholesky of the n x n block A (row major, lower triangle used). The diagonal
 * is stored as its reciprocal 1/L_jj, so that the substitutions below multiply instead of
 * divide: the factorisation is a sequential recurrence over the blocks, and a division's
 * latency is what bounds it for small n. */
static int chol_lower(double *A, int64_t n) {
    for (int64_t j = 0; j < n; j++) {
        double d = A[j * n + j];
        for (int64_t k = 0; k < j; k++) d -= A[j * n + k] * A[j * n + k];
        if (!(d > 0.0) || !isfinite(d)) return 0;
        const double inv = 1.0 / sqrt(d);
        A[j * n + j] = inv;
        for (int64_t i = j + 1; i < n; i++) {
            double s = A[i * n + j];
            for (int64_t k = 0; k < j; k++) s -= A[i * n + k] * A[j * n + k];
            A[i * n + j] = s * inv;
        }
        for (int64_t i = 0; i < j; i++) A[i * n + j] = 0.0;
    }
    return 1;
}

/* y <- L^-1 y (forward substitution), L from chol_lower, y of stride `stride`. */
static void lower_solve(const double *L, double *y, int64_t n, int64_t stride) {
    for (int64_t i = 0; i < n; i++) {
        double s = y[i * stride];
        for (int64_t k = 0; k < i; k++) s -= L[i * n + k] * y[k * stride];
        y[i * stride] = s * L[i * n + i];
    }
}

/* y <- L^-T y (backward substitution with the transpose of L from chol_lower). */
static void lower_t_solve(const double *L, double *y, int64_t n) {
    for (int64_t i = n - 1; i >= 0; i--) {
        double s = y[i];
        for (int64_t k = i + 1; k < n; k++) s -= L[k * n + i] * y[k];
        y[i] = s * L[i * n + i];
    }
}

/* Solve one system; work holds 2 M n^2 doubles. Returns 1 on success. */
static int blocktri_solve(const double *B, const double *C, const double *r, double *x,
                          int64_t M, int64_t n, double *work) {
    const int64_t nn = n * n;
    double *L = work, *W = work + M * nn;
    for (int64_t k = 0; k < M; k++) {
        double *Lk = L + k * nn, *Wk = W + k * nn;
        memcpy(Lk, B + k * nn, (size_t)nn * sizeof(double));
        if (k > 0) {
            /* W_k = L_{k-1}^-1 C_{k-1}, column by column; then S = B_k - W_k^T W_k. */
            memcpy(Wk, C + (k - 1) * nn, (size_t)nn * sizeof(double));
            for (int64_t c = 0; c < n; c++) lower_solve(L + (k - 1) * nn, Wk + c, n, n);
            for (int64_t i = 0; i < n; i++)
                for (int64_t j = 0; j <= i; j++) {
                    double s = 0.0;
                    for (int64_t m = 0; m < n; m++) s += Wk[m * n + i] * Wk[m * n + j];
                    Lk[i * n + j] -= s;
                }
        }
        if (!chol_lower(Lk, n)) return 0;
    }
    /* Forward: y_k = L_k^-1 (r_k - W_k^T y_{k-1}), stored in x. */
    for (int64_t k = 0; k < M; k++) {
        double *yk = x + k * n;
        memcpy(yk, r + k * n, (size_t)n * sizeof(double));
        if (k > 0) {
            const double *Wk = W + k * nn, *yp = x + (k - 1) * n;
            for (int64_t i = 0; i < n; i++) {
                double s = 0.0;
                for (int64_t m = 0; m < n; m++) s += Wk[m * n + i] * yp[m];
                yk[i] -= s;
            }
        }
        lower_solve(L + k * nn, yk, n, 1);
    }
    /* Backward: x_k = L_k^-T (y_k - W_{k+1} x_{k+1}). */
    for (int64_t k = M - 1; k >= 0; k--) {
        double *xk = x + k * n;
        if (k < M - 1) {
            const double *Wn = W + (k + 1) * nn, *xn = x + (k + 1) * n;
            for (int64_t i = 0; i < n; i++) {
                double s = 0.0;
                for (int64_t m = 0; m < n; m++) s += Wn[i * n + m] * xn[m];
                xk[i] -= s;
            }
        }
        lower_t_solve(L + k * nn, xk, n);
    }
    for (int64_t i = 0; i < M * n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* ---- the handler ------------------------------------------------------------------------- */

static NNBuffer *item(const NNList *list, int64_t i) { return (NNBuffer *)list->items[i]; }

static int64_t count(const NNBuffer *b, int64_t skip_last) {
    int64_t c = 1;
    for (int64_t i = 0; i < b->rank - skip_last; i++) c *= b->dims[i];
    return c;
}

static void *blocktri_handler(NNCallFrame *frame) {
    NNExtBase *ext = frame->extension_start;
    if (ext != NULL && ext->type == NN_EXT_METADATA) {
        NNMetadata *md = ((NNMetadataExt *)ext)->metadata;
        md->api_version.struct_size = sizeof(NNApiVersion);
        md->api_version.extension_start = NULL;
        md->api_version.major_version = NN_FFI_MAJOR;
        md->api_version.minor_version = NN_FFI_MINOR;
        md->traits = 0;
        return NULL;
    }
    if (frame->stage != NN_STAGE_EXECUTE) return NULL;
    if (frame->args.size != 3 || frame->rets.size != 2) return NULL;
    NNBuffer *Bb = item(&frame->args, 0), *Cb = item(&frame->args, 1), *rb = item(&frame->args, 2);
    NNBuffer *xb = item(&frame->rets, 0), *okb = item(&frame->rets, 1);
    /* Shapes are checked by the Python wrapper; guard against anything unexpected anyway. */
    if (Bb->dtype != NN_DTYPE_F64 || rb->dtype != NN_DTYPE_F64 || xb->dtype != NN_DTYPE_F64 ||
        okb->dtype != NN_DTYPE_PRED || Bb->rank < 3 || rb->rank < 2)
        return NULL;
    const int64_t M = Bb->dims[Bb->rank - 3], n = Bb->dims[Bb->rank - 1];
    const int64_t batch = count(Bb, 3);
    uint8_t *ok = (uint8_t *)okb->data;
    double *work = (M * n > 0) ? (double *)malloc((size_t)(2 * M * n * n) * sizeof(double)) : NULL;
    for (int64_t b = 0; b < batch; b++) {
        const double *B = (const double *)Bb->data + b * M * n * n;
        const double *C = (const double *)Cb->data + b * (M > 0 ? (M - 1) : 0) * n * n;
        const double *r = (const double *)rb->data + b * M * n;
        double *x = (double *)xb->data + b * M * n;
        int good = (work != NULL) && blocktri_solve(B, C, r, x, M, n, work);
        if (!good) memset(x, 0, (size_t)(M * n) * sizeof(double));
        ok[b] = (uint8_t)good;
    }
    free(work);
    return NULL;
}

/* ---- the Python module: hands the handler to jax.ffi.register_ffi_target ----------------- */

static PyObject *handler(PyObject *self, PyObject *unused) {
    (void)self, (void)unused;
    return PyCapsule_New((void *)&blocktri_handler, NULL, NULL);
}

static PyMethodDef methods[] = {
    {"handler", handler, METH_NOARGS, "PyCapsule with the XLA FFI handler (CPU)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_blocktri",
    "Block-tridiagonal Cholesky solve as an XLA FFI handler (see _native.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__blocktri(void) { return PyModule_Create(&module); }
