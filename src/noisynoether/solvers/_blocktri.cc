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
 * Two more targets split the solve for many right-hand sides against one matrix (the
 * certificate's shift-invert Lanczos, ~16 solves): "factor" (B, C) -> (L, W (..., M, n, n),
 * ok (...)) and "substitute" (L, W, r) -> x, the same arithmetic as the solve's two halves.
 * A fourth, "lanczos" (L, W, q0) -> (alpha, beta (..., S), ok (...)), runs that Lanczos
 * recurrence itself on the factors (the tridiagonal matrix's entries; its eigenvalues are
 * taken in JAX), and a fifth, "count" (B, C, tau) -> count (...), the number of eigenvalues
 * below tau (Sylvester's inertia of a block LDL^T), which checks that no eigenvalue was
 * missed among the lowest (Lanczos from one vector finds one copy of a repeated eigenvalue).
 *
 * Algorithm: H = L L^T with block-lower L: diagonal blocks L_k (lower triangular) and
 * sub-diagonal blocks W_k^T, where W_k = L_{k-1}^-1 C_{k-1} and L_k L_k^T = B_k - W_k^T W_k.
 * Then L y = r (forward) and L^T x = y (backward). A pivot that is not > 0 (or not finite)
 * means H is not positive definite: ok = false and x = 0 (a normal outcome: the damped Newton
 * step is rejected and the damping raised).
 *
 * Errors (returned to XLA as ffi::Error, raised in Python as jax.errors.JaxRuntimeError, a
 * RuntimeError, with the message): a wrong number of operands or a dtype other than
 * f64/f64/f64 -> f64/pred (checked by XLA's typed binding before this code runs), shapes that
 * do not fit together (checked here), a workspace that cannot be allocated.
 *
 * C-ABI compatibility. The handler is built against the FFI headers that jaxlib ships
 * (jax.ffi.include_dir(): xla/ffi/api/{c_api,api,ffi}.h; see setup.py), so the structs XLA
 * passes (call frame, buffers, metadata extension) are declared by XLA itself, never by hand.
 * The binding answers XLA's metadata query with the API version of those headers
 * (XLA_FFI_API_MAJOR.XLA_FFI_API_MINOR, 0.3 for jaxlib 0.10). XLA promises: fields are only
 * appended (every struct starts with its size), the major version changes only on a break, and
 * old minor versions stay supported for at least 12 months. So a build keeps working across
 * jaxlib upgrades within that window; a runtime jaxlib OLDER than the build's headers, or a new
 * major version, makes XLA refuse the handler at registration or at its first call: that is a
 * Python exception (never a crash), caught by _native.native_available(), which then reports
 * False and the solvers use LAPACK through a host callback. Rebuild (pip install -e .) after
 * changing jaxlib to get the kernel back. The Python module below only hands XLA a pointer to
 * the handler (a PyCapsule); it calls no XLA function, so it links against nothing of jaxlib.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

/* ---- the numerics ------------------------------------------------------------------------ */

/* a . b with eight partial sums: a single running sum is a chain of dependent additions
 * (latency-bound, ~4 cycles an element); eight independent ones overlap. */
double dot8(const double *a, const double *b, int64_t N) {
    double acc[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    int64_t i = 0;
    for (; i + 8 <= N; i += 8)
        for (int u = 0; u < 8; u++) acc[u] += a[i + u] * b[i + u];
    for (; i < N; i++) acc[0] += a[i] * b[i];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* In-place lower Cholesky of the n x n block A (row major, lower triangle used). The diagonal
 * is stored as its reciprocal 1/L_jj, so that the substitutions below multiply instead of
 * divide: the factorisation is a sequential recurrence over the blocks, and a division's
 * latency is what bounds it for small n. */
template <int64_t NC>
bool chol_lower(double *A, int64_t n_in) {
    const int64_t n = NC > 0 ? NC : n_in;
    for (int64_t j = 0; j < n; j++) {
        double d = A[j * n + j];
        if constexpr (NC == 0) { /* larger blocks: vectorised dot products (eight sums) */
            d -= dot8(A + j * n, A + j * n, j);
        } else {
            for (int64_t k = 0; k < j; k++) d -= A[j * n + k] * A[j * n + k];
        }
        if (!(d > 0.0) || !std::isfinite(d)) return false;
        const double inv = 1.0 / std::sqrt(d);
        A[j * n + j] = inv;
        for (int64_t i = j + 1; i < n; i++) {
            double s = A[i * n + j];
            if constexpr (NC == 0) {
                s -= dot8(A + i * n, A + j * n, j);
            } else {
                for (int64_t k = 0; k < j; k++) s -= A[i * n + k] * A[j * n + k];
            }
            A[i * n + j] = s * inv;
        }
        for (int64_t i = 0; i < j; i++) A[i * n + j] = 0.0;
    }
    return true;
}

/* y <- L^-1 y (forward substitution), L from chol_lower, y of stride `stride`. */
template <int64_t NC>
void lower_solve(const double *L, double *y, int64_t n_in, int64_t stride) {
    const int64_t n = NC > 0 ? NC : n_in;
    for (int64_t i = 0; i < n; i++) {
        double s = y[i * stride];
        for (int64_t k = 0; k < i; k++) s -= L[i * n + k] * y[k * stride];
        y[i * stride] = s * L[i * n + i];
    }
}

/* y <- L^-T y (backward substitution with the transpose of L from chol_lower). */
template <int64_t NC>
void lower_t_solve(const double *L, double *y, int64_t n_in) {
    const int64_t n = NC > 0 ? NC : n_in;
    for (int64_t i = n - 1; i >= 0; i--) {
        double s = y[i];
        for (int64_t k = i + 1; k < n; k++) s -= L[k * n + i] * y[k];
        y[i] = s * L[i * n + i];
    }
}

/* Block k of the factorisation: L_k (and W_k = L_{k-1}^-1 C_{k-1}, zero for k = 0) from B_k,
 * C_{k-1} and L_{k-1}; false where the pivot is not positive. */
template <int64_t NC>
bool factor_block(const double *B, const double *C, double *L, double *W, int64_t k,
                  int64_t n_in) {
    const int64_t n = NC > 0 ? NC : n_in;
    const int64_t nn = n * n;
    double *Lk = L + k * nn, *Wk = W + k * nn;
    std::memcpy(Lk, B + k * nn, static_cast<size_t>(nn) * sizeof(double));
    if (k > 0) {
        /* W_k = L_{k-1}^-1 C_{k-1}; then S = B_k - W_k^T W_k. */
        std::memcpy(Wk, C + (k - 1) * nn, static_cast<size_t>(nn) * sizeof(double));
        const double *Lp = L + (k - 1) * nn;
        if constexpr (NC == 0) {
            /* Larger blocks, row by row: W's rows by forward substitution on whole rows (the
             * same operations in the same order as the columns below), and S -= W^T W as a
             * sum of outer products of W's rows: every inner loop runs along a contiguous row
             * and vectorises, where the column form strides by n (measured in
             * docs/benchmarks.md, "The kernel at larger blocks"). Blocks of n <= 4 keep the
             * column form: there the factorisation is latency-bound, and its rounding is
             * unchanged. */
            for (int64_t i = 0; i < n; i++) {
                double *wi = Wk + i * n;
                for (int64_t p = 0; p < i; p++) {
                    const double l = Lp[i * n + p];
                    const double *wp = Wk + p * n;
                    for (int64_t j = 0; j < n; j++) wi[j] -= l * wp[j];
                }
                const double inv = Lp[i * n + i];
                for (int64_t j = 0; j < n; j++) wi[j] *= inv;
            }
            for (int64_t m = 0; m < n; m++) {
                const double *wm = Wk + m * n;
                for (int64_t i = 0; i < n; i++) {
                    const double a = wm[i];
                    double *li = Lk + i * n;
                    for (int64_t j = 0; j <= i; j++) li[j] -= a * wm[j];
                }
            }
        } else {
            for (int64_t c = 0; c < n; c++) lower_solve<NC>(Lp, Wk + c, n, n);
            for (int64_t i = 0; i < n; i++)
                for (int64_t j = 0; j <= i; j++) {
                    double s = 0.0;
                    for (int64_t m = 0; m < n; m++) s += Wk[m * n + i] * Wk[m * n + j];
                    Lk[i * n + j] -= s;
                }
        }
    } else {
        std::memset(Wk, 0, static_cast<size_t>(nn) * sizeof(double));
    }
    return chol_lower<NC>(Lk, n);
}

/* Forward substitution, block k: y_k = L_k^-1 (r_k - W_k^T y_{k-1}), stored in x. */
template <int64_t NC>
void forward_block(const double *L, const double *W, const double *r, double *x, int64_t k,
                   int64_t n_in) {
    const int64_t n = NC > 0 ? NC : n_in;
    const int64_t nn = n * n;
    double *yk = x + k * n;
    std::memcpy(yk, r + k * n, static_cast<size_t>(n) * sizeof(double));
    if (k > 0) {
        const double *Wk = W + k * nn, *yp = x + (k - 1) * n;
        for (int64_t i = 0; i < n; i++) {
            double s = 0.0;
            for (int64_t m = 0; m < n; m++) s += Wk[m * n + i] * yp[m];
            yk[i] -= s;
        }
    }
    lower_solve<NC>(L + k * nn, yk, n, 1);
}

/* Backward substitution, block k of M: x_k = L_k^-T (y_k - W_{k+1} x_{k+1}). */
template <int64_t NC>
void backward_block(const double *L, const double *W, double *x, int64_t k, int64_t M,
                    int64_t n_in) {
    const int64_t n = NC > 0 ? NC : n_in;
    const int64_t nn = n * n;
    double *xk = x + k * n;
    if (k < M - 1) {
        const double *Wn = W + (k + 1) * nn, *xn = x + (k + 1) * n;
        for (int64_t i = 0; i < n; i++) {
            double s = 0.0;
            for (int64_t m = 0; m < n; m++) s += Wn[i * n + m] * xn[m];
            xk[i] -= s;
        }
    }
    lower_t_solve<NC>(L + k * nn, xk, n);
}

/* Solve G independent systems of one shape (M blocks of n x n) together, block by block;
 * work holds 2 M n^2 doubles per system; ok[g] says whether system g succeeded (else its x
 * is zero). Each system's arithmetic is that of solving it alone, in the same order: only
 * the order between systems changes. Why together: for small n the factorisation is a chain
 * of dependent square roots and divisions (latency-bound), and the processor overlaps the
 * chains of systems that sit side by side in the instruction stream (the Newton step's
 * damped and undamped Hessians, solved in one call: 23 -> 15.6 us for the two at M = 198,
 * n = 2, measured). */
template <int64_t NC>
void blocktri_solve_group(const double *const *B, const double *const *C, const double *const *r,
                          double *const *x, bool *ok, int64_t G, int64_t M, int64_t n,
                          double *work) {
    const int64_t span = 2 * M * n * n; /* a system's L, then its W */
    for (int64_t g = 0; g < G; g++) ok[g] = true;
    for (int64_t k = 0; k < M; k++)
        for (int64_t g = 0; g < G; g++)
            if (ok[g])
                ok[g] = factor_block<NC>(B[g], C[g], work + g * span,
                                         work + g * span + M * n * n, k, n);
    for (int64_t k = 0; k < M; k++)
        for (int64_t g = 0; g < G; g++)
            if (ok[g])
                forward_block<NC>(work + g * span, work + g * span + M * n * n, r[g], x[g], k, n);
    for (int64_t k = M - 1; k >= 0; k--)
        for (int64_t g = 0; g < G; g++)
            if (ok[g])
                backward_block<NC>(work + g * span, work + g * span + M * n * n, x[g], k, M, n);
    for (int64_t g = 0; g < G; g++) {
        for (int64_t i = 0; ok[g] && i < M * n; i++)
            if (!std::isfinite(x[g][i])) ok[g] = false;
        if (!ok[g]) std::memset(x[g], 0, static_cast<size_t>(M * n) * sizeof(double));
    }
}

/* The factors of one system into L, W (M n^2 doubles each); true on success. */
template <int64_t NC>
bool blocktri_factor(const double *B, const double *C, double *L, double *W, int64_t M,
                     int64_t n) {
    for (int64_t k = 0; k < M; k++)
        if (!factor_block<NC>(B, C, L, W, k, n)) return false;
    return true;
}

/* x = H^-1 r from the factors L, W of blocktri_factor. */
template <int64_t NC>
void blocktri_substitute(const double *L, const double *W, const double *r, double *x,
                         int64_t M, int64_t n) {
    for (int64_t k = 0; k < M; k++) forward_block<NC>(L, W, r, x, k, n);
    for (int64_t k = M - 1; k >= 0; k--) backward_block<NC>(L, W, x, k, M, n);
}

/* Shift-invert Lanczos with one matrix's factors (the certificate's eigenvalues, _lanczos.py):
 * S steps of q_{j+1} beta_j = H^-1 q_j - alpha_j q_j - ..., alpha_j = q_j . H^-1 q_j, with
 * full reorthogonalisation, twice (classical Gram-Schmidt against q_0..q_j, as w - Q^T (Q w)),
 * from the unit vector q0/|q0|. Q holds S N doubles (the basis), w N. False where a
 * substitution is not finite (alpha and beta then zero). The same recurrence as the compiled
 * loop it replaces; done here because each of its ~25 small operations per step cost ~0.5 us
 * of XLA's per-operation overhead, several times the arithmetic at N = 400. */
template <int64_t NC>
bool lanczos(const double *L, const double *W, const double *q0, double *alpha, double *beta,
             int64_t S, int64_t M, int64_t n, double *Q, double *w, double *h) {
    const int64_t N = M * n;
    const double nrm = std::sqrt(dot8(q0, q0, N));
    for (int64_t i = 0; i < N; i++) Q[i] = q0[i] / nrm;
    for (int64_t j = 0; j < S; j++) {
        const double *q = Q + j * N;
        blocktri_substitute<NC>(L, W, q, w, M, n);
        const double a = dot8(q, w, N);
        for (int pass = 0; pass < 2; pass++) {
            for (int64_t r = 0; r <= j; r++) h[r] = dot8(Q + r * N, w, N);
            for (int64_t r = 0; r <= j; r++) {
                const double *qr = Q + r * N;
                const double c = h[r];
                for (int64_t i = 0; i < N; i++) w[i] -= c * qr[i];
            }
        }
        const double b = std::sqrt(dot8(w, w, N));
        if (!std::isfinite(a) || !std::isfinite(b)) return false;
        alpha[j] = a;
        beta[j] = b;
        if (j + 1 < S) {
            const double inv = 1.0 / (b > 1e-300 ? b : 1.0);
            double *qn = Q + (j + 1) * N;
            for (int64_t i = 0; i < N; i++) qn[i] = w[i] * inv;
        }
    }
    return true;
}

/* The numerics above for block size n: compiled for n = 1..4 with loops of known length
 * (unrolled: at n = 2 a solve takes ~2x less time), the same arithmetic in the same order;
 * n at run time otherwise. */
#define NN_BY_BLOCK_SIZE(n, call) \
    switch (n) {                  \
        case 1: call(1); break;   \
        case 2: call(2); break;   \
        case 3: call(3); break;   \
        case 4: call(4); break;   \
        default: call(0); break;  \
    }

void solve_group(const double *const *B, const double *const *C, const double *const *r,
                 double *const *x, bool *ok, int64_t G, int64_t M, int64_t n, double *work) {
#define NN_CALL(NC) blocktri_solve_group<NC>(B, C, r, x, ok, G, M, n, work)
    NN_BY_BLOCK_SIZE(n, NN_CALL)
#undef NN_CALL
}

bool factor(const double *B, const double *C, double *L, double *W, int64_t M, int64_t n) {
    bool good = false;
#define NN_CALL(NC) good = blocktri_factor<NC>(B, C, L, W, M, n)
    NN_BY_BLOCK_SIZE(n, NN_CALL)
#undef NN_CALL
    return good;
}

void substitute(const double *L, const double *W, const double *r, double *x, int64_t M,
                int64_t n) {
#define NN_CALL(NC) blocktri_substitute<NC>(L, W, r, x, M, n)
    NN_BY_BLOCK_SIZE(n, NN_CALL)
#undef NN_CALL
}

/* Eigen-decomposition A = V diag(A_ii) V^T of a symmetric n x n block by cyclic Jacobi
 * rotations (A overwritten: its diagonal ends as the eigenvalues; V row major, columns the
 * eigenvectors). For the small blocks of count_below; converged when the off-diagonal part is
 * below 1e-15 of the norm (at most 50 sweeps). */
void jacobi(double *A, double *V, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) V[i * n + j] = i == j ? 1.0 : 0.0;
    for (int sweep = 0; sweep < 50; sweep++) {
        double off = 0.0, norm = 0.0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < n; j++) {
                norm += A[i * n + j] * A[i * n + j];
                if (i != j) off += A[i * n + j] * A[i * n + j];
            }
        if (!(off > 1e-30 * norm)) return;
        for (int64_t p = 0; p < n; p++)
            for (int64_t q = p + 1; q < n; q++) {
                const double apq = A[p * n + q];
                if (apq == 0.0) continue;
                const double theta = (A[q * n + q] - A[p * n + p]) / (2.0 * apq);
                const double t = (theta >= 0.0 ? 1.0 : -1.0) /
                                 (std::fabs(theta) + std::sqrt(theta * theta + 1.0));
                const double c = 1.0 / std::sqrt(t * t + 1.0), sn = t * c;
                for (int64_t k = 0; k < n; k++) { /* columns p, q */
                    const double akp = A[k * n + p], akq = A[k * n + q];
                    A[k * n + p] = c * akp - sn * akq;
                    A[k * n + q] = sn * akp + c * akq;
                }
                for (int64_t k = 0; k < n; k++) { /* rows p, q */
                    const double apk = A[p * n + k], aqk = A[q * n + k];
                    A[p * n + k] = c * apk - sn * aqk;
                    A[q * n + k] = sn * apk + c * aqk;
                }
                for (int64_t k = 0; k < n; k++) {
                    const double vkp = V[k * n + p], vkq = V[k * n + q];
                    V[k * n + p] = c * vkp - sn * vkq;
                    V[k * n + q] = sn * vkp + c * vkq;
                }
            }
    }
}

/* How many eigenvalues of the block-tridiagonal H (B, C as the solve's) lie below tau, by
 * Sylvester's law of inertia on the block LDL^T of H - tau I: S_0 = B_0 - tau I,
 * S_k = B_k - tau I - C_{k-1}^T S_{k-1}^-1 C_{k-1}, and the count is the number of negative
 * eigenvalues of all the S_k (the Sturm count, block by block; each S_k's eigenvalues by
 * Jacobi). -1 where a value is not finite. work: 4 n^2 doubles. An eigenvalue of S_k that is
 * exactly zero counts as negative (tau on an eigenvalue of H: either side will do). */
int64_t count_below(const double *B, const double *C, double tau, int64_t M, int64_t n,
                    double *work) {
    const int64_t nn = n * n;
    double *S = work, *V = work + nn, *G = work + 2 * nn, *prev = work + 3 * nn;
    int64_t count = 0;
    for (int64_t k = 0; k < M; k++) {
        std::memcpy(S, B + k * nn, static_cast<size_t>(nn) * sizeof(double));
        for (int64_t i = 0; i < n; i++) S[i * n + i] -= tau;
        if (k > 0) {
            /* previous block: S_{k-1} = V diag(lam) V^T, its eigenvalues on prev's diagonal;
             * G = V^T C_{k-1}, then S_k -= sum_i G_i^T G_i / lam_i */
            const double *Ck = C + (k - 1) * nn;
            for (int64_t i = 0; i < n; i++)
                for (int64_t j = 0; j < n; j++) {
                    double g = 0.0;
                    for (int64_t m = 0; m < n; m++) g += V[m * n + i] * Ck[m * n + j];
                    G[i * n + j] = g;
                }
            for (int64_t i = 0; i < n; i++) {
                double lam = prev[i * n + i];
                if (lam == 0.0) lam = -std::numeric_limits<double>::min();
                const double inv = 1.0 / lam;
                for (int64_t a = 0; a < n; a++)
                    for (int64_t b = 0; b < n; b++) S[a * n + b] -= G[i * n + a] * G[i * n + b] * inv;
            }
        }
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < i; j++) /* exact symmetry for Jacobi */
                S[i * n + j] = S[j * n + i] = 0.5 * (S[i * n + j] + S[j * n + i]);
        jacobi(S, V, n);
        for (int64_t i = 0; i < n; i++) {
            const double lam = S[i * n + i];
            if (!std::isfinite(lam)) return -1;
            if (lam <= 0.0) count++;
        }
        std::memcpy(prev, S, static_cast<size_t>(nn) * sizeof(double));
    }
    return count;
}

bool lanczos_any(const double *L, const double *W, const double *q0, double *alpha,
                 double *beta, int64_t S, int64_t M, int64_t n, double *Q, double *w,
                 double *h) {
    bool good = false;
#define NN_CALL(NC) good = lanczos<NC>(L, W, q0, alpha, beta, S, M, n, Q, w, h)
    NN_BY_BLOCK_SIZE(n, NN_CALL)
#undef NN_CALL
    return good;
}

/* Systems solved together (see blocktri_solve_group). */
constexpr int64_t kGroup = 4;

/* ---- the handler ------------------------------------------------------------------------- */

/* Largest workspace the handler may allocate, in bytes. Only lowered by the test hook
 * _set_workspace_limit (to exercise the allocation-failure error); otherwise unlimited. */
std::atomic<size_t> workspace_limit{std::numeric_limits<size_t>::max()};

const char *const kName = "noisynoether block-tridiagonal kernel";

std::string shape_str(ffi::Span<const int64_t> d) {
    std::string s = "(";
    for (size_t i = 0; i < d.size(); i++) s += (i ? ", " : "") + std::to_string(d[i]);
    return s + (d.size() == 1 ? ",)" : ")");
}

/* True when d is lead + tail (lead = the first `nlead` entries of `ref`). */
bool fits(ffi::Span<const int64_t> d, ffi::Span<const int64_t> ref, size_t nlead,
          std::initializer_list<int64_t> tail) {
    if (d.size() != nlead + tail.size()) return false;
    for (size_t i = 0; i < nlead; i++)
        if (d[i] != ref[i]) return false;
    size_t i = nlead;
    for (int64_t t : tail)
        if (d[i++] != t) return false;
    return true;
}

/* The leading (batch) dimensions of a (..., M, n, n) operand d: their number, their product,
 * M and n; false where d has fewer than three dimensions. */
struct Blocks {
    size_t nlead;
    int64_t batch, M, n;
};

bool blocks_of(ffi::Span<const int64_t> d, Blocks &b) {
    if (d.size() < 3) return false;
    b.nlead = d.size() - 3;
    b.M = d[b.nlead];
    b.n = d[b.nlead + 2];
    b.batch = 1;
    for (size_t i = 0; i < b.nlead; i++) b.batch *= d[i];
    return true;
}

ffi::Error not_blocks(const char *name, ffi::Span<const int64_t> d) {
    return ffi::Error::InvalidArgument(std::string(kName) + ": " + name +
                                       " must have shape (..., M, n, n), got " + shape_str(d));
}

ffi::Error BlocktriSolveImpl(ffi::Buffer<ffi::F64> Bb, ffi::Buffer<ffi::F64> Cb,
                             ffi::Buffer<ffi::F64> rb, ffi::ResultBuffer<ffi::F64> xb,
                             ffi::ResultBuffer<ffi::PRED> okb) {
    const auto bd = Bb.dimensions();
    Blocks blk;
    if (!blocks_of(bd, blk)) return not_blocks("B", bd);
    const size_t nlead = blk.nlead;
    const int64_t M = blk.M, n = blk.n;
    const int64_t Mc = M > 0 ? M - 1 : 0;
    if (bd[nlead + 1] != n || !fits(Cb.dimensions(), bd, nlead, {Mc, n, n}) ||
        !fits(rb.dimensions(), bd, nlead, {M, n}) || !fits(xb->dimensions(), bd, nlead, {M, n}) ||
        !fits(okb->dimensions(), bd, nlead, {}))
        return ffi::Error::InvalidArgument(
            std::string(kName) + ": shapes do not fit together: B " + shape_str(bd) + ", C " +
            shape_str(Cb.dimensions()) + ", r " + shape_str(rb.dimensions()) + " -> x " +
            shape_str(xb->dimensions()) + ", ok " + shape_str(okb->dimensions()) +
            "; expected B (..., M, n, n), C (..., M-1, n, n), r and x (..., M, n), ok (...)");
    const int64_t batch = blk.batch;
    bool *ok = okb->typed_data();
    if (batch == 0) return ffi::Error::Success();
    if (M * n == 0) {
        for (int64_t b = 0; b < batch; b++) ok[b] = true;
        return ffi::Error::Success();
    }
    /* Workspace: 2 M n^2 doubles (the factors L_k and W_k) per system of a group, reused
     * across the batch. */
    const int64_t group = batch < kGroup ? batch : kGroup;
    const size_t per_block =
        2 * sizeof(double) * static_cast<size_t>(n) * static_cast<size_t>(n) * group;
    const bool overflow = static_cast<size_t>(M) > std::numeric_limits<size_t>::max() / per_block;
    const size_t bytes = overflow ? 0 : per_block * static_cast<size_t>(M);
    std::unique_ptr<double, decltype(&std::free)> work(nullptr, &std::free);
    if (!overflow && bytes <= workspace_limit.load())
        work.reset(static_cast<double *>(std::malloc(bytes)));
    if (!work)
        return ffi::Error(
            ffi::ErrorCode::kResourceExhausted,
            std::string(kName) + ": could not allocate its workspace of " +
                (overflow ? std::string("more than SIZE_MAX") : std::to_string(bytes)) +
                " bytes (2 M n^2 doubles per system, M = " + std::to_string(M) +
                " blocks of n = " + std::to_string(n) + ", " + std::to_string(group) +
                " systems); free memory, use fewer time points, or pass "
                "linear_solver='lapack' or 'scan'");
    const double *Bp[kGroup], *Cp[kGroup], *rp[kGroup];
    double *xp[kGroup];
    bool okg[kGroup];
    for (int64_t b0 = 0; b0 < batch; b0 += group) {
        const int64_t G = batch - b0 < group ? batch - b0 : group;
        for (int64_t g = 0; g < G; g++) {
            const int64_t b = b0 + g;
            Bp[g] = Bb.typed_data() + b * M * n * n;
            Cp[g] = Cb.typed_data() + b * Mc * n * n;
            rp[g] = rb.typed_data() + b * M * n;
            xp[g] = xb->typed_data() + b * M * n;
        }
        solve_group(Bp, Cp, rp, xp, okg, G, M, n, work.get());
        for (int64_t g = 0; g < G; g++) ok[b0 + g] = okg[g];
    }
    return ffi::Error::Success();
}

/* (B, C) -> (L, W, ok): the factors, zero where H is not positive definite. */
ffi::Error BlocktriFactorImpl(ffi::Buffer<ffi::F64> Bb, ffi::Buffer<ffi::F64> Cb,
                              ffi::ResultBuffer<ffi::F64> Lb, ffi::ResultBuffer<ffi::F64> Wb,
                              ffi::ResultBuffer<ffi::PRED> okb) {
    const auto bd = Bb.dimensions();
    Blocks blk;
    if (!blocks_of(bd, blk)) return not_blocks("B", bd);
    const size_t nlead = blk.nlead;
    const int64_t M = blk.M, n = blk.n;
    const int64_t Mc = M > 0 ? M - 1 : 0;
    if (bd[nlead + 1] != n || !fits(Cb.dimensions(), bd, nlead, {Mc, n, n}) ||
        !fits(Lb->dimensions(), bd, nlead, {M, n, n}) ||
        !fits(Wb->dimensions(), bd, nlead, {M, n, n}) || !fits(okb->dimensions(), bd, nlead, {}))
        return ffi::Error::InvalidArgument(
            std::string(kName) + " (factor): shapes do not fit together: B " + shape_str(bd) +
            ", C " + shape_str(Cb.dimensions()) + "; expected B (..., M, n, n), C (..., M-1, n, n)");
    const int64_t batch = blk.batch;
    for (int64_t b = 0; b < batch; b++) {
        double *L = Lb->typed_data() + b * M * n * n, *W = Wb->typed_data() + b * M * n * n;
        const bool good =
            factor(Bb.typed_data() + b * M * n * n, Cb.typed_data() + b * Mc * n * n, L, W, M, n);
        if (!good) {
            std::memset(L, 0, static_cast<size_t>(M * n * n) * sizeof(double));
            std::memset(W, 0, static_cast<size_t>(M * n * n) * sizeof(double));
        }
        okb->typed_data()[b] = good;
    }
    return ffi::Error::Success();
}

/* (L, W, r) -> x = H^-1 r from blocktri_factor's factors (x = 0 from the zero factors of a
 * failed factorisation: the caller uses x only where its ok was true). */
ffi::Error BlocktriSubstituteImpl(ffi::Buffer<ffi::F64> Lb, ffi::Buffer<ffi::F64> Wb,
                                  ffi::Buffer<ffi::F64> rb, ffi::ResultBuffer<ffi::F64> xb) {
    const auto ld = Lb.dimensions();
    Blocks blk;
    if (!blocks_of(ld, blk)) return not_blocks("L", ld);
    const size_t nlead = blk.nlead;
    const int64_t M = blk.M, n = blk.n;
    if (ld[nlead + 1] != n || !fits(Wb.dimensions(), ld, nlead, {M, n, n}) ||
        !fits(rb.dimensions(), ld, nlead, {M, n}) || !fits(xb->dimensions(), ld, nlead, {M, n}))
        return ffi::Error::InvalidArgument(
            std::string(kName) + " (substitute): shapes do not fit together: L " +
            shape_str(ld) + ", W " + shape_str(Wb.dimensions()) + ", r " +
            shape_str(rb.dimensions()) + "; expected L and W (..., M, n, n), r (..., M, n)");
    const int64_t batch = blk.batch;
    for (int64_t b = 0; b < batch; b++)
        substitute(Lb.typed_data() + b * M * n * n, Wb.typed_data() + b * M * n * n,
                   rb.typed_data() + b * M * n, xb->typed_data() + b * M * n, M, n);
    return ffi::Error::Success();
}

/* (L, W, q0) -> (alpha, beta (..., S), ok): S shift-invert Lanczos steps with the factors of
 * blocktri_factor (S from alpha's shape); ok false (alpha, beta zero) where a step is not
 * finite, e.g. from the zero factors of a failed factorisation. */
ffi::Error BlocktriLanczosImpl(ffi::Buffer<ffi::F64> Lb, ffi::Buffer<ffi::F64> Wb,
                               ffi::Buffer<ffi::F64> qb, ffi::ResultBuffer<ffi::F64> ab,
                               ffi::ResultBuffer<ffi::F64> bb, ffi::ResultBuffer<ffi::PRED> okb) {
    const auto ld = Lb.dimensions();
    Blocks blk;
    if (!blocks_of(ld, blk)) return not_blocks("L", ld);
    const size_t nlead = blk.nlead;
    const int64_t M = blk.M, n = blk.n;
    const auto ad = ab->dimensions();
    const int64_t S = ad.size() == nlead + 1 ? ad[nlead] : -1;
    if (ld[nlead + 1] != n || S < 1 || !fits(Wb.dimensions(), ld, nlead, {M, n, n}) ||
        !fits(qb.dimensions(), ld, nlead, {M, n}) || !fits(ad, ld, nlead, {S}) ||
        !fits(bb->dimensions(), ld, nlead, {S}) || !fits(okb->dimensions(), ld, nlead, {}) ||
        M * n < 1)
        return ffi::Error::InvalidArgument(
            std::string(kName) + " (lanczos): shapes do not fit together: L " + shape_str(ld) +
            ", W " + shape_str(Wb.dimensions()) + ", q0 " + shape_str(qb.dimensions()) +
            " -> alpha " + shape_str(ad) + ", beta " + shape_str(bb->dimensions()) +
            "; expected L and W (..., M, n, n), q0 (..., M, n), alpha and beta (..., S), "
            "S >= 1, M n >= 1");
    const int64_t batch = blk.batch;
    const int64_t N = M * n;
    const size_t bytes = sizeof(double) * (static_cast<size_t>(S + 1) * static_cast<size_t>(N) +
                                           static_cast<size_t>(S));
    std::unique_ptr<double, decltype(&std::free)> work(nullptr, &std::free);
    if (bytes <= workspace_limit.load()) work.reset(static_cast<double *>(std::malloc(bytes)));
    if (!work)
        return ffi::Error(ffi::ErrorCode::kResourceExhausted,
                          std::string(kName) + " (lanczos): could not allocate its workspace of " +
                              std::to_string(bytes) + " bytes");
    double *Q = work.get(), *w = Q + S * N, *h = w + N;
    for (int64_t b = 0; b < batch; b++) {
        double *alpha = ab->typed_data() + b * S, *beta = bb->typed_data() + b * S;
        const bool good = lanczos_any(Lb.typed_data() + b * M * n * n,
                                      Wb.typed_data() + b * M * n * n, qb.typed_data() + b * N,
                                      alpha, beta, S, M, n, Q, w, h);
        if (!good) {
            std::memset(alpha, 0, static_cast<size_t>(S) * sizeof(double));
            std::memset(beta, 0, static_cast<size_t>(S) * sizeof(double));
        }
        okb->typed_data()[b] = good;
    }
    return ffi::Error::Success();
}

/* (B, C, tau (...)) -> count (...): eigenvalues of H below tau (count_below; -1 where not
 * finite). */
ffi::Error BlocktriCountImpl(ffi::Buffer<ffi::F64> Bb, ffi::Buffer<ffi::F64> Cb,
                             ffi::Buffer<ffi::F64> tb, ffi::ResultBuffer<ffi::S64> cb) {
    const auto bd = Bb.dimensions();
    Blocks blk;
    if (!blocks_of(bd, blk)) return not_blocks("B", bd);
    const size_t nlead = blk.nlead;
    const int64_t M = blk.M, n = blk.n;
    const int64_t Mc = M > 0 ? M - 1 : 0;
    if (bd[nlead + 1] != n || !fits(Cb.dimensions(), bd, nlead, {Mc, n, n}) ||
        !fits(tb.dimensions(), bd, nlead, {}) || !fits(cb->dimensions(), bd, nlead, {}))
        return ffi::Error::InvalidArgument(
            std::string(kName) + " (count): shapes do not fit together: B " + shape_str(bd) +
            ", C " + shape_str(Cb.dimensions()) + ", tau " + shape_str(tb.dimensions()) +
            "; expected B (..., M, n, n), C (..., M-1, n, n), tau (...)");
    const int64_t batch = blk.batch;
    std::unique_ptr<double, decltype(&std::free)> work(
        static_cast<double *>(std::malloc(sizeof(double) * 4 * static_cast<size_t>(n * n + 1))),
        &std::free);
    if (!work)
        return ffi::Error(ffi::ErrorCode::kResourceExhausted,
                          std::string(kName) + " (count): could not allocate its workspace");
    for (int64_t b = 0; b < batch; b++)
        cb->typed_data()[b] = count_below(Bb.typed_data() + b * M * n * n,
                                          Cb.typed_data() + b * Mc * n * n, tb.typed_data()[b],
                                          M, n, work.get());
    return ffi::Error::Success();
}

}  // namespace

/* The XLA-visible symbol: XLA's typed binding checks the number of operands and results and
 * each one's dtype before calling BlocktriSolveImpl, and answers the metadata query. */
XLA_FFI_DEFINE_HANDLER_SYMBOL(NoisyNoetherBlocktriSolve, BlocktriSolveImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F64>>()   // B
                                  .Arg<ffi::Buffer<ffi::F64>>()   // C
                                  .Arg<ffi::Buffer<ffi::F64>>()   // r
                                  .Ret<ffi::Buffer<ffi::F64>>()   // x
                                  .Ret<ffi::Buffer<ffi::PRED>>()  // ok
);

XLA_FFI_DEFINE_HANDLER_SYMBOL(NoisyNoetherBlocktriFactor, BlocktriFactorImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F64>>()   // B
                                  .Arg<ffi::Buffer<ffi::F64>>()   // C
                                  .Ret<ffi::Buffer<ffi::F64>>()   // L
                                  .Ret<ffi::Buffer<ffi::F64>>()   // W
                                  .Ret<ffi::Buffer<ffi::PRED>>()  // ok
);

XLA_FFI_DEFINE_HANDLER_SYMBOL(NoisyNoetherBlocktriSubstitute, BlocktriSubstituteImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F64>>()   // L
                                  .Arg<ffi::Buffer<ffi::F64>>()   // W
                                  .Arg<ffi::Buffer<ffi::F64>>()   // r
                                  .Ret<ffi::Buffer<ffi::F64>>()   // x
);

XLA_FFI_DEFINE_HANDLER_SYMBOL(NoisyNoetherBlocktriLanczos, BlocktriLanczosImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F64>>()   // L
                                  .Arg<ffi::Buffer<ffi::F64>>()   // W
                                  .Arg<ffi::Buffer<ffi::F64>>()   // q0
                                  .Ret<ffi::Buffer<ffi::F64>>()   // alpha
                                  .Ret<ffi::Buffer<ffi::F64>>()   // beta
                                  .Ret<ffi::Buffer<ffi::PRED>>()  // ok
);

XLA_FFI_DEFINE_HANDLER_SYMBOL(NoisyNoetherBlocktriCount, BlocktriCountImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F64>>()  // B
                                  .Arg<ffi::Buffer<ffi::F64>>()  // C
                                  .Arg<ffi::Buffer<ffi::F64>>()  // tau
                                  .Ret<ffi::Buffer<ffi::S64>>()  // count
);

/* ---- the Python module: hands the handler to jax.ffi.register_ffi_target ----------------- */

namespace {

PyObject *handler(PyObject *, PyObject *) {
    return PyCapsule_New(reinterpret_cast<void *>(&NoisyNoetherBlocktriSolve), nullptr, nullptr);
}

PyObject *factor_handler(PyObject *, PyObject *) {
    return PyCapsule_New(reinterpret_cast<void *>(&NoisyNoetherBlocktriFactor), nullptr, nullptr);
}

PyObject *substitute_handler(PyObject *, PyObject *) {
    return PyCapsule_New(reinterpret_cast<void *>(&NoisyNoetherBlocktriSubstitute), nullptr,
                         nullptr);
}

PyObject *count_handler(PyObject *, PyObject *) {
    return PyCapsule_New(reinterpret_cast<void *>(&NoisyNoetherBlocktriCount), nullptr, nullptr);
}

PyObject *lanczos_handler(PyObject *, PyObject *) {
    return PyCapsule_New(reinterpret_cast<void *>(&NoisyNoetherBlocktriLanczos), nullptr,
                         nullptr);
}

/* Acquires views[0..count) of objs as C-contiguous float64 buffers, those from writable_from
 * on writable; got says how many were acquired (the caller releases them). False, with a
 * Python exception set, where one cannot be (not a buffer, not contiguous, read-only, not
 * float64). */
bool acquire_f64(PyObject *const *objs, int count, int writable_from, Py_buffer *views,
                 const char *who, int &got) {
    for (got = 0; got < count; got++) {
        const int flags =
            PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (got >= writable_from ? PyBUF_WRITABLE : 0);
        if (PyObject_GetBuffer(objs[got], &views[got], flags) != 0) return false;
        if (views[got].itemsize != sizeof(double) || views[got].format == nullptr ||
            std::strcmp(views[got].format, "d") != 0) {
            got++;
            PyErr_SetString(PyExc_TypeError,
                            (std::string(who) + ": every buffer must be float64").c_str());
            return false;
        }
    }
    return true;
}

/* lanczos_host(B, C, q0, alpha, beta) -> ok: the same recurrence as the "lanczos" target, for
 * one system given as C-contiguous float64 buffers (B (M, n, n) already shifted, C (M-1, n, n),
 * q0 (M, n); alpha and beta writable, of S doubles each), called from Python without a
 * compiled program (a single path's certificate: nothing to compile per grid shape) and
 * without Python's GIL while it runs. False where H is not positive definite or a step is not
 * finite. */
PyObject *lanczos_host(PyObject *, PyObject *args) {
    PyObject *objs[5];
    if (!PyArg_ParseTuple(args, "OOOOO", &objs[0], &objs[1], &objs[2], &objs[3], &objs[4]))
        return nullptr;
    Py_buffer views[5];
    int got = 0;
    PyObject *result = nullptr;
    if (acquire_f64(objs, 5, 3, views, "lanczos_host", got)) {
        const Py_buffer &vb = views[0];
        const int64_t M = vb.ndim == 3 ? vb.shape[0] : -1, n = vb.ndim == 3 ? vb.shape[2] : -1;
        const int64_t S = views[3].len / static_cast<Py_ssize_t>(sizeof(double));
        if (M < 1 || n < 1 || vb.shape[1] != n ||
            views[1].len != static_cast<Py_ssize_t>((M - 1) * n * n * sizeof(double)) ||
            views[2].len != static_cast<Py_ssize_t>(M * n * sizeof(double)) || S < 1 ||
            views[4].len != views[3].len) {
            PyErr_SetString(PyExc_ValueError,
                            "lanczos_host: expected B (M, n, n), C (M-1, n, n), q0 (M, n) and "
                            "alpha, beta of S >= 1 entries each");
        } else {
            const int64_t N = M * n;
            const size_t doubles = static_cast<size_t>(2 * M * n * n + (S + 1) * N + S);
            std::unique_ptr<double, decltype(&std::free)> work(
                static_cast<double *>(std::malloc(doubles * sizeof(double))), &std::free);
            if (!work) {
                PyErr_NoMemory();
            } else {
                double *L = work.get(), *W = L + M * n * n, *Q = W + M * n * n, *w = Q + S * N,
                       *h = w + N;
                bool good = false;
                Py_BEGIN_ALLOW_THREADS
                good = factor(static_cast<const double *>(views[0].buf),
                              static_cast<const double *>(views[1].buf), L, W, M, n) &&
                       lanczos_any(L, W, static_cast<const double *>(views[2].buf),
                                   static_cast<double *>(views[3].buf),
                                   static_cast<double *>(views[4].buf), S, M, n, Q, w, h);
                Py_END_ALLOW_THREADS
                result = PyBool_FromLong(good);
            }
        }
    }
    for (int i = 0; i < got; i++) PyBuffer_Release(&views[i]);
    return result;
}

/* count_below_host(B, C, tau) -> int: count_below on C-contiguous float64 buffers B (M, n, n)
 * and C (M-1, n, n), without the GIL; -1 where a value is not finite. */
PyObject *count_below_host(PyObject *, PyObject *args) {
    PyObject *objs[2];
    double tau;
    if (!PyArg_ParseTuple(args, "OOd", &objs[0], &objs[1], &tau)) return nullptr;
    Py_buffer views[2];
    int got = 0;
    PyObject *result = nullptr;
    if (acquire_f64(objs, 2, 2, views, "count_below_host", got)) {
        const Py_buffer &vb = views[0], &vc = views[1];
        const int64_t M = vb.ndim == 3 ? vb.shape[0] : -1, n = vb.ndim == 3 ? vb.shape[2] : -1;
        if (M < 1 || n < 1 || vb.shape[1] != n ||
            vc.len != static_cast<Py_ssize_t>((M - 1) * n * n * sizeof(double))) {
            PyErr_SetString(PyExc_ValueError,
                            "count_below_host: expected B (M, n, n) and C (M-1, n, n)");
        } else {
            std::unique_ptr<double, decltype(&std::free)> work(
                static_cast<double *>(std::malloc(sizeof(double) * 4 * static_cast<size_t>(n * n))),
                &std::free);
            if (!work) {
                PyErr_NoMemory();
            } else {
                int64_t count = 0;
                Py_BEGIN_ALLOW_THREADS
                count = count_below(static_cast<const double *>(vb.buf),
                                    static_cast<const double *>(vc.buf), tau, M, n, work.get());
                Py_END_ALLOW_THREADS
                result = PyLong_FromLongLong(count);
            }
        }
    }
    for (int i = 0; i < got; i++) PyBuffer_Release(&views[i]);
    return result;
}

PyObject *ffi_api_version(PyObject *, PyObject *) {
    return Py_BuildValue("(ii)", XLA_FFI_API_MAJOR, XLA_FFI_API_MINOR);
}

PyObject *set_workspace_limit(PyObject *, PyObject *arg) {
    const unsigned long long limit = PyLong_AsUnsignedLongLong(arg);
    if (limit == static_cast<unsigned long long>(-1) && PyErr_Occurred()) return nullptr;
    const size_t old = workspace_limit.exchange(static_cast<size_t>(limit));
    return PyLong_FromUnsignedLongLong(old);
}

PyMethodDef methods[] = {
    {"handler", handler, METH_NOARGS, "PyCapsule with the XLA FFI handler (CPU)."},
    {"factor_handler", factor_handler, METH_NOARGS,
     "PyCapsule with the XLA FFI handler of the factorisation alone (CPU)."},
    {"substitute_handler", substitute_handler, METH_NOARGS,
     "PyCapsule with the XLA FFI handler of the substitutions alone (CPU)."},
    {"lanczos_handler", lanczos_handler, METH_NOARGS,
     "PyCapsule with the XLA FFI handler of shift-invert Lanczos on given factors (CPU)."},
    {"lanczos_host", lanczos_host, METH_VARARGS,
     "lanczos_host(B, C, q0, alpha, beta) -> ok: shift-invert Lanczos on float64 buffers, "
     "without the GIL."},
    {"count_handler", count_handler, METH_NOARGS,
     "PyCapsule with the XLA FFI handler of the eigenvalue count below a point (CPU)."},
    {"count_below_host", count_below_host, METH_VARARGS,
     "count_below_host(B, C, tau) -> number of eigenvalues below tau, without the GIL."},
    {"ffi_api_version", ffi_api_version, METH_NOARGS,
     "(major, minor) of the XLA FFI headers this module was built against."},
    {"_set_workspace_limit", set_workspace_limit, METH_O,
     "Test hook: refuse workspaces above this many bytes (as a failed allocation would); "
     "returns the previous limit."},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_blocktri",
    "Block-tridiagonal Cholesky solve as an XLA FFI handler (see _native.py).", -1, methods,
    nullptr, nullptr, nullptr, nullptr,
};

}  // namespace

PyMODINIT_FUNC PyInit__blocktri(void) { return PyModule_Create(&module); }
